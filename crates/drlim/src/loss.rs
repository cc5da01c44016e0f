//! The contrastive loss of Hadsell, Chopra & LeCun (2006), eq. (4), and nothing else:
//!
//! L(W, Y, X1, X2) = (1 − Y) · ½ · D² + Y · ½ · max(0, m − D)²,  D = ‖G_W(X1) − G_W(X2)‖₂
//!
//! with Y = 0 for neighbours (pulled together like a spring of rest length 0) and Y = 1 for
//! non-neighbours (pushed apart only while closer than the margin m). D is the Euclidean norm of
//! the whole output difference, not an element-wise distance.

use burn::tensor::Tensor;

use crate::points::sq_distance;

/// Added under the square root so that ∂D/∂G stays finite when D = 0 (two identical outputs).
/// It only enters the dissimilar term; the similar term uses D² directly.
pub const SQRT_EPS: f32 = 1e-9;

/// Mean contrastive loss over a batch.
///
/// `g1`, `g2`: the two arms' outputs, `[B, d]`; `y`: `[B]`, 0 for neighbour pairs and 1 for
/// non-neighbour pairs; `margin`: m > 0. Returns a one-element tensor.
pub fn contrastive_loss(g1: Tensor<2>, g2: Tensor<2>, y: Tensor<1>, margin: f32) -> Tensor<1> {
    let d2: Tensor<1> = (g1 - g2).square().sum_dim(1).squeeze_dim(1);
    let d = d2.clone().add_scalar(SQRT_EPS).sqrt();
    let similar = d2.mul_scalar(0.5);
    let dissimilar = d
        .neg()
        .add_scalar(margin)
        .clamp_min(0.0)
        .square()
        .mul_scalar(0.5);
    let not_y = y.clone().neg().add_scalar(1.0);
    (not_y * similar + y * dissimilar).mean()
}

/// The same mean loss on plain slices, with its gradient, for the fast CPU path.
///
/// `out` holds 2B rows of d outputs: the B first arms, then the B second arms (as one batched
/// forward produces them). Writes ∂L/∂out into `dout` (same layout) and returns L.
pub fn contrastive_loss_and_grad(
    out: &[f32],
    d: usize,
    y: &[f32],
    margin: f32,
    dout: &mut [f32],
) -> f32 {
    let b = y.len();
    assert_eq!(out.len(), 2 * b * d, "out must hold 2B rows");
    assert_eq!(dout.len(), out.len(), "dout must match out");
    let (g1, g2) = out.split_at(b * d);
    let (d1, d2) = dout.split_at_mut(b * d);
    let inv_b = 1.0 / b as f32;
    let mut total = 0f32;
    for p in 0..b {
        let (a, c) = (&g1[p * d..(p + 1) * d], &g2[p * d..(p + 1) * d]);
        let sq = sq_distance(a, c);
        // ∂L/∂G1 = scale · (G1 − G2): similar 1; dissimilar −(m − D)/D while D < m, else 0
        let (loss, scale) = if y[p] == 0.0 {
            (0.5 * sq, 1.0)
        } else {
            let dist = (sq + SQRT_EPS).sqrt();
            let gap = (margin - dist).max(0.0);
            (0.5 * gap * gap, -gap / dist)
        };
        total += loss;
        for k in 0..d {
            let g = scale * (a[k] - c[k]) * inv_b;
            d1[p * d + k] = g;
            d2[p * d + k] = -g;
        }
    }
    total * inv_b
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn device() -> Device {
        Device::flex().autodiff()
    }

    fn t2(v: &[f32], rows: usize, dev: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v.to_vec(), [rows, v.len() / rows]), dev)
    }

    fn loss_and_grad(g1: &[f32], g2: &[f32], y: &[f32], m: f32) -> (f32, Vec<f32>) {
        let dev = device();
        let a = t2(g1, y.len(), &dev).require_grad();
        let b = t2(g2, y.len(), &dev);
        let yt = Tensor::<1>::from_data(TensorData::new(y.to_vec(), [y.len()]), &dev);
        let loss = contrastive_loss(a.clone(), b, yt, m);
        let grads = loss.backward();
        let g = a
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        (loss.into_data().try_into_vec::<f32>().unwrap()[0], g)
    }

    /// Closed forms per pair (before the mean over B): similar: L = ½D², ∂L/∂G1 = G1 − G2;
    /// dissimilar with D < m: L = ½(m − D)², ∂L/∂G1 = −(m − D)(G1 − G2)/D; D ≥ m: 0.
    #[test]
    fn matches_closed_forms() {
        let g1 = [0.0, 0.0, 0.1, 0.2, 0.3, -0.4, 2.0, 0.0];
        let g2 = [0.5, 0.5, 0.4, 0.2, 0.0, 0.0, 0.0, 0.0];
        let y = [0.0, 1.0, 1.0, 1.0];
        let m = 1.0f32;
        let (loss, grad) = loss_and_grad(&g1, &g2, &y, m);
        let b = y.len() as f32;
        let mut want_loss = 0.0;
        for p in 0..4 {
            let diff = [g1[2 * p] - g2[2 * p], g1[2 * p + 1] - g2[2 * p + 1]];
            let d = (diff[0] * diff[0] + diff[1] * diff[1]).sqrt();
            let (l, scale) = if y[p] == 0.0 {
                (0.5 * d * d, 1.0)
            } else if d < m {
                (0.5 * (m - d) * (m - d), -(m - d) / d)
            } else {
                (0.0, 0.0)
            };
            want_loss += l / b;
            for c in 0..2 {
                let want = scale * diff[c] / b;
                assert!(
                    (grad[2 * p + c] - want).abs() < 1e-6,
                    "pair {p} coord {c}: {} vs {want}",
                    grad[2 * p + c]
                );
            }
        }
        assert!((loss - want_loss).abs() < 1e-6, "{loss} vs {want_loss}");
        // the dissimilar pair at D = 2 ≥ m contributes nothing; the similar pair pulls
        assert_eq!(&grad[6..8], &[0.0, 0.0]);
    }

    #[test]
    fn distance_is_the_norm_of_the_whole_vector_not_elementwise() {
        // D = ‖(0.6, 0.8)‖ = 1 = m: no push, although each coordinate alone is below m.
        let (loss, grad) = loss_and_grad(&[0.6, 0.8], &[0.0, 0.0], &[1.0], 1.0);
        assert!(
            loss.abs() < 1e-6 && grad.iter().all(|g| g.abs() < 1e-5),
            "{loss} {grad:?}"
        );
    }

    #[test]
    fn y_zero_pulls_and_y_one_pushes() {
        let (_, pull) = loss_and_grad(&[0.3, 0.0], &[0.0, 0.0], &[0.0], 1.0);
        let (_, push) = loss_and_grad(&[0.3, 0.0], &[0.0, 0.0], &[1.0], 1.0);
        // gradient descent moves G1 along −grad: towards G2 for neighbours, away otherwise
        assert!(pull[0] > 0.0 && push[0] < 0.0, "{pull:?} {push:?}");
    }

    #[test]
    fn gradient_is_finite_at_zero_distance() {
        let (loss, grad) = loss_and_grad(
            &[0.5, 0.5, 0.5, 0.5],
            &[0.5, 0.5, 0.5, 0.5],
            &[0.0, 1.0],
            1.0,
        );
        assert!(
            loss.is_finite() && grad.iter().all(|g| g.is_finite()),
            "{loss} {grad:?}"
        );
        assert!((loss - 0.25).abs() < 1e-4, "{loss}"); // ½·(m − 0)² / 2
    }

    #[test]
    fn slice_version_matches_the_tensor_version() {
        let g1 = [
            0.2f32, -0.1, 0.3, 0.4, 0.05, 0.1, 0.7, -0.2, 0.0, 0.5, 0.5, 0.5,
        ];
        let g2 = [
            0.0f32, 0.1, 0.1, 0.1, 0.2, -0.3, 0.9, -0.1, 0.5, 0.5, 0.5, 0.5,
        ];
        let y = [0.0, 1.0, 1.0, 1.0];
        let (loss, grad) = loss_and_grad(&g1, &g2, &y, 1.0);
        let out: Vec<f32> = g1.iter().chain(&g2).copied().collect();
        let mut dout = vec![0f32; out.len()];
        let l = contrastive_loss_and_grad(&out, 3, &y, 1.0, &mut dout);
        assert!((l - loss).abs() < 1e-6, "{l} vs {loss}");
        for (a, b) in dout[..12].iter().zip(&grad) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
        assert!(dout[..12].iter().zip(&dout[12..]).all(|(a, b)| *a == -*b));
    }

    #[test]
    fn matches_finite_differences() {
        let g1 = [0.2f32, -0.1, 0.3, 0.4, 0.05, 0.1, 0.7, -0.2, 0.0];
        let g2 = [0.0f32, 0.1, 0.1, 0.1, 0.2, -0.3, 0.9, -0.1, 0.5];
        let y = [0.0, 1.0, 1.0];
        let (_, grad) = loss_and_grad(&g1, &g2, &y, 1.0);
        let h = 1e-3f32;
        for i in 0..g1.len() {
            let mut up = g1;
            up[i] += h;
            let mut down = g1;
            down[i] -= h;
            let fd = (loss_and_grad(&up, &g2, &y, 1.0).0 - loss_and_grad(&down, &g2, &y, 1.0).0)
                / (2.0 * h);
            assert!(
                (fd - grad[i]).abs() < 2e-3,
                "coord {i}: fd {fd} vs autodiff {}",
                grad[i]
            );
        }
    }
}
