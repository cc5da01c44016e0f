//! SGD with momentum over flat parameter tensors, as PyTorch and burn do it (dampening 0):
//! v ← μ·v + (g + λ·w), w ← w − lr·v, with v starting at 0 (so the first step takes g itself).

/// Updates `params` in place with `grads`, keeping one velocity buffer per tensor in `velocity`.
pub(crate) fn sgd_update<'a>(
    params: impl IntoIterator<Item = &'a mut Vec<f32>>,
    grads: impl IntoIterator<Item = &'a [f32]>,
    velocity: &mut Vec<Vec<f32>>,
    [lr, momentum, weight_decay]: [f32; 3],
) {
    for (i, (w, g)) in params.into_iter().zip(grads).enumerate() {
        if velocity.len() <= i {
            velocity.push(vec![0.0; w.len()]);
        }
        for ((w, &g), v) in w.iter_mut().zip(g).zip(velocity[i].iter_mut()) {
            let g = g + weight_decay * *w;
            *v = momentum * *v + g;
            *w -= lr * *v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn momentum_accumulates_like_pytorch() {
        let mut w = vec![1.0f32];
        let mut v = Vec::new();
        sgd_update([&mut w], [&[0.5f32][..]], &mut v, [0.1, 0.9, 0.0]);
        assert!((w[0] - 0.95).abs() < 1e-7); // v = 0.5
        sgd_update([&mut w], [&[0.5f32][..]], &mut v, [0.1, 0.9, 0.0]);
        assert!((w[0] - (0.95 - 0.1 * 0.95)).abs() < 1e-6); // v = 0.9·0.5 + 0.5
    }
}
