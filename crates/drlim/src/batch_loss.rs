//! Losses that take their non-neighbours from the batch itself: a batch is B neighbour pairs
//! (2B outputs, first arms then second arms, from one forward pass) and every other output of
//! the batch is a non-neighbour of each arm, so one pass gives 2B(2B − 2)/2 non-neighbour pairs
//! instead of the B random ones of the paper's sampler. Two outputs of the same sample are never
//! taken as non-neighbours.
//!
//! - [`batch_contrastive_loss_and_grad`]: the paper's contrastive loss (eq. 4) with in-batch
//!   non-neighbours: the mean ½D² over the neighbour pairs plus the mean ½max(0, m − D)² over
//!   the non-neighbour pairs (the two terms weigh as with one random non-neighbour per pair).
//! - [`cauchy_infonce_loss_and_grad`]: the InfoNCE loss with a Cauchy kernel q = 1/(1 + D²) of
//!   t-SimCNE (Böhm, Berens & Kobak, ICLR 2023): for each output a with neighbour p, −log of
//!   q(a, p) over the sum of q(a, k) for all other outputs k of the batch.
//!
//! Both write ∂L/∂out and return L; D is always the Euclidean norm of the whole difference.

use rayon::prelude::*;

use crate::loss::SQRT_EPS;
use crate::points::sq_distance;

/// Squared distance between rows u and v of `out` (d values each).
fn sq_dist(out: &[f32], d: usize, u: usize, v: usize) -> f32 {
    sq_distance(&out[u * d..(u + 1) * d], &out[v * d..(v + 1) * d])
}

/// Adds `scale · (out_u − out_v)` to dout_u and subtracts it from dout_v.
fn spring(out: &[f32], dout: &mut [f32], d: usize, u: usize, v: usize, scale: f32) {
    for k in 0..d {
        let g = scale * (out[u * d + k] - out[v * d + k]);
        dout[u * d + k] += g;
        dout[v * d + k] -= g;
    }
}

/// The paper's contrastive loss over B neighbour pairs with in-batch non-neighbours.
///
/// `out`: 2B rows of d outputs, rows u and u + B a neighbour pair; `ids`: the sample of each
/// row (rows of one sample are not pushed apart); `margin`: m.
pub fn batch_contrastive_loss_and_grad(
    out: &[f32],
    d: usize,
    ids: &[u32],
    margin: f32,
    dout: &mut [f32],
) -> f32 {
    let rows = ids.len();
    assert!(rows.is_multiple_of(2) && out.len() == rows * d && dout.len() == out.len());
    let b = rows / 2;
    dout.fill(0.0);
    let mut similar = 0f64;
    for u in 0..b {
        let sq = sq_dist(out, d, u, u + b);
        similar += 0.5 * sq as f64;
        spring(out, dout, d, u, u + b, 1.0 / b as f32);
    }
    // non-neighbour pairs: count first, so each gets weight 1/count
    let is_negative = |u: usize, v: usize| ids[u] != ids[v] && v != u + b;
    let count = (0..rows)
        .map(|u| (u + 1..rows).filter(|&v| is_negative(u, v)).count())
        .sum::<usize>();
    let mut dissimilar = 0f64;
    if count > 0 {
        let w = 1.0 / count as f32;
        for u in 0..rows {
            for v in u + 1..rows {
                if !is_negative(u, v) {
                    continue;
                }
                let dist = (sq_dist(out, d, u, v) + SQRT_EPS).sqrt();
                let gap = margin - dist;
                if gap > 0.0 {
                    dissimilar += 0.5 * (gap * gap) as f64;
                    spring(out, dout, d, u, v, -gap / dist * w);
                }
            }
        }
        dissimilar /= count as f64;
    }
    (similar / b as f64 + dissimilar) as f32
}

/// t-SimCNE's Cauchy-kernel InfoNCE over B neighbour pairs with in-batch non-neighbours.
///
/// `out`: 2B rows of d outputs, rows u and u + B a neighbour pair; `ids`: the sample of each
/// row (another row of the same sample is left out of the denominator).
///
/// With q_uk = 1/(1 + ‖z_u − z_k‖²), S_u = Σ_k q_uk and ℓ_u = log S_u − log q_u,p(u), the mean
/// loss over the 2B rows has ∂L/∂z_u = Σ_k W_uk (z_u − z_k) with
/// W_uk = [4 q_uk if k = p(u)] − 2 q_uk² (1/S_u + 1/S_k), all over 2B: each row's gradient is
/// computed on its own, so rows run in parallel.
pub fn cauchy_infonce_loss_and_grad(out: &[f32], d: usize, ids: &[u32], dout: &mut [f32]) -> f32 {
    let rows = ids.len();
    assert!(rows.is_multiple_of(2) && out.len() == rows * d && dout.len() == out.len());
    let b = rows / 2;
    let partner = |u: usize| (u + b) % rows;
    let kernel = |u: usize, k: usize| {
        if k == u || (k != partner(u) && ids[k] == ids[u]) {
            0.0
        } else {
            1.0 / (1.0 + sq_dist(out, d, u, k))
        }
    };
    let sums: Vec<f32> = (0..rows)
        .into_par_iter()
        .map(|u| (0..rows).map(|k| kernel(u, k)).sum())
        .collect();
    let total: f64 = (0..rows)
        .map(|u| (sums[u].ln() - kernel(u, partner(u)).ln()) as f64)
        .sum();
    let inv = 1.0 / rows as f32;
    dout.par_chunks_mut(d).enumerate().for_each(|(u, g)| {
        g.fill(0.0);
        let zu = &out[u * d..(u + 1) * d];
        for k in 0..rows {
            let q = kernel(u, k);
            if q == 0.0 {
                continue;
            }
            let mut w = -2.0 * q * q * (1.0 / sums[u] + 1.0 / sums[k]);
            if k == partner(u) {
                w += 4.0 * q;
            }
            w *= inv;
            let zk = &out[k * d..(k + 1) * d];
            for c in 0..d {
                g[c] += w * (zu[c] - zk[c]);
            }
        }
    });
    (total / rows as f64) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs() -> (Vec<f32>, Vec<u32>) {
        // B = 3 pairs in 2-D; rows 0 and 4 are the same sample
        let out = vec![
            0.1, 0.2, 0.5, -0.3, 0.9, 0.4, // first arms
            0.15, 0.1, 0.4, -0.2, 0.8, 0.9, // second arms
        ];
        (out, vec![7, 8, 9, 1, 8, 2])
    }

    fn check_finite_differences(f: impl Fn(&[f32], &mut [f32]) -> f32) {
        let (out, _) = outputs();
        let mut grad = vec![0f32; out.len()];
        f(&out, &mut grad);
        let mut scratch = vec![0f32; out.len()];
        let h = 1e-3f32;
        for i in 0..out.len() {
            let mut up = out.clone();
            up[i] += h;
            let mut down = out.clone();
            down[i] -= h;
            let fd = (f(&up, &mut scratch) - f(&down, &mut scratch)) / (2.0 * h);
            assert!(
                (fd - grad[i]).abs() < 2e-3,
                "coord {i}: finite difference {fd} vs gradient {}",
                grad[i]
            );
        }
    }

    #[test]
    fn batch_contrastive_gradient_matches_finite_differences() {
        let (_, ids) = outputs();
        check_finite_differences(|o, g| batch_contrastive_loss_and_grad(o, 2, &ids, 1.0, g));
    }

    #[test]
    fn cauchy_infonce_gradient_matches_finite_differences() {
        let (_, ids) = outputs();
        check_finite_differences(|o, g| cauchy_infonce_loss_and_grad(o, 2, &ids, g));
    }

    #[test]
    fn batch_contrastive_closed_form_on_two_pairs() {
        // B = 2: pair (0, 2) at distance 0.5, pair (1, 3) at distance 0; non-neighbours are
        // (0,1), (0,3), (1,2), (2,3) with distances 3, 3, 3.0414, 3.0414: all beyond m = 1
        let out = [0.0, 0.0, 3.0, 0.0, 0.5, 0.0, 3.0, 0.0];
        let mut g = [0f32; 8];
        let l = batch_contrastive_loss_and_grad(&out, 2, &[0, 1, 0, 1], 1.0, &mut g);
        // only the neighbour term: mean of ½·0.25 and 0 → 0.0625; rows of one sample (0 and 2,
        // 1 and 3) are neighbours here, never pushed apart
        assert!((l - 0.0625).abs() < 1e-6, "{l}");
        // with m = 10 every non-neighbour pair pushes: (0,1) at D = 3 adds ½·49
        let l10 = batch_contrastive_loss_and_grad(&out, 2, &[0, 1, 2, 3], 10.0, &mut g);
        let d12 = (2.5f32 * 2.5).sqrt();
        let want_neg = 0.5 * (49.0 + 49.0 + (10.0 - d12).powi(2) + (10.0 - d12).powi(2)) / 4.0;
        assert!((l10 - (0.0625 + want_neg)).abs() < 1e-4, "{l10}");
        // pushing moves row 0 away from row 1 (to the left) overall
        assert!(g[0] > 0.0, "{g:?}");
    }

    #[test]
    fn cauchy_infonce_prefers_close_neighbours_and_far_non_neighbours() {
        let ids = [0, 1, 2, 3];
        let mut g = [0f32; 8];
        let good = [0.0, 0.0, 5.0, 0.0, 0.1, 0.0, 5.1, 0.0];
        let bad = [0.0, 0.0, 5.0, 0.0, 5.1, 0.0, 0.1, 0.0];
        let lg = cauchy_infonce_loss_and_grad(&good, 2, &ids, &mut g);
        let lb = cauchy_infonce_loss_and_grad(&bad, 2, &ids, &mut g);
        assert!(lg < 0.1 && lb > 2.0, "{lg} {lb}");
    }
}
