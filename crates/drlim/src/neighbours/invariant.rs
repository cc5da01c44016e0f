//! The k nearest neighbours under declared invariances: the distance from sample i to sample j
//! is the smallest Euclidean distance from i to j or to one of j's transformed copies (shifts
//! of one pixel, rotations by the declared angle), in the spirit of tangent distance (Simard et
//! al. 1993). Prior knowledge, not labels: a digit moved by a pixel is still the same digit, so
//! it should find the same neighbours.

use rayon::prelude::*;

use super::{knn_indices, NeighbourGraph, NeighbourSource};
use crate::augment::{border_mean, warp, Affine, Augmentation, NO_ELASTIC};
use crate::error::{Error, Result};
use crate::points::sq_distance;
use crate::points::Points;

/// Each sample is a neighbour of its k nearest samples under the transformations (symmetrised).
#[derive(Clone, Debug)]
pub struct InvariantKnnSource {
    /// Neighbours per sample.
    pub k: usize,
    /// (height, width) of the images.
    pub image: (usize, usize),
    /// The transformed copies compared besides the samples themselves.
    pub transforms: Vec<Affine>,
}

impl InvariantKnnSource {
    /// The transformations that `aug` declares, at the small end: a shift of one pixel in each of
    /// the 8 directions when it shifts, and a rotation by ± its angle when it rotates.
    pub fn from_augmentation(k: usize, image: (usize, usize), aug: &Augmentation) -> Result<Self> {
        let id = Affine::IDENTITY;
        let mut transforms = Vec::new();
        if aug.shift > 0.0 {
            let s = aug.shift.min(1.0);
            for dx in [-s, 0.0, s] {
                for dy in [-s, 0.0, s] {
                    if dx != 0.0 || dy != 0.0 {
                        transforms.push(Affine { dx, dy, ..id });
                    }
                }
            }
        }
        if aug.rotate > 0.0 {
            for a in [-aug.rotate, aug.rotate] {
                transforms.push(Affine {
                    angle: a.to_radians(),
                    ..id
                });
            }
        }
        if transforms.is_empty() {
            return Err(Error::param(
                "invariant nearest neighbours need declared shifts or rotations (augment shift=… or rotate=…)",
            ));
        }
        Ok(Self {
            k,
            image,
            transforms,
        })
    }
}

impl NeighbourSource for InvariantKnnSource {
    fn describe(&self) -> String {
        format!(
            "invariant-knn(k={}, {} transformed copies)",
            self.k,
            self.transforms.len()
        )
    }

    fn graph(&self, points: &Points) -> Result<NeighbourGraph> {
        let (h, w) = self.image;
        if h * w != points.dim {
            return Err(Error::param(format!(
                "invariant nearest neighbours need {h}×{w} images, but the samples have {} values",
                points.dim
            )));
        }
        if self.k == 0 || self.k >= points.n {
            return Err(Error::param(format!(
                "k = {} nearest neighbours needs 1 ≤ k < the number of samples ({})",
                self.k, points.n
            )));
        }
        let (n, dim, k) = (points.n, points.dim, self.k);
        let mut candidates: Vec<Vec<(f32, u32)>> = vec![Vec::with_capacity(k * 12); n];
        for t in std::iter::once(&Affine::IDENTITY).chain(&self.transforms) {
            let mut copy = vec![0f32; n * dim];
            copy.par_chunks_mut(dim).enumerate().for_each(|(j, dst)| {
                let src = points.row(j);
                warp(src, dst, h, w, t, &NO_ELASTIC, border_mean(src, h, w));
            });
            let reference = Points::new(&copy, dim);
            // k + 1: sample i's own copy may be among them
            let idx = knn_indices(points, &reference, k + 1, false);
            candidates.par_iter_mut().enumerate().for_each(|(i, c)| {
                for &j in &idx[i * (k + 1)..(i + 1) * (k + 1)] {
                    if j as usize != i {
                        c.push((sq_distance(points.row(i), reference.row(j as usize)), j));
                    }
                }
            });
        }
        let pairs: Vec<(u32, u32)> = candidates
            .into_par_iter()
            .enumerate()
            .flat_map_iter(|(i, mut c)| {
                // nearest first, each neighbour once at its smallest distance
                c.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let mut seen = Vec::with_capacity(k);
                for (_, j) in c {
                    if !seen.contains(&j) {
                        seen.push(j);
                        if seen.len() == k {
                            break;
                        }
                    }
                }
                seen.into_iter().map(move |j| (i as u32, j))
            })
            .collect();
        Ok(NeighbourGraph::from_pairs(n, pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bar at column c of an 8×8 image.
    fn bar(c: usize) -> Vec<f32> {
        let mut v = vec![0f32; 64];
        for r in 1..7 {
            v[r * 8 + c] = 1.0;
        }
        v
    }

    #[test]
    fn a_one_pixel_shift_makes_a_neighbour_that_pixels_miss() {
        // samples: a bar at column 2, the same bar at column 3 (a shift of one pixel), and a
        // blob that overlaps the first bar's pixels more than the shifted bar does
        let mut blob = vec![0f32; 64];
        for r in 1..7 {
            blob[r * 8 + 2] = 0.6;
        }
        blob[0] = 1.0;
        let x: Vec<f32> = [bar(2), bar(3), blob].concat();
        let p = Points::new(&x, 64);
        let plain = super::super::KnnSource { k: 1 }.graph(&p).unwrap();
        assert!(plain.contains(0, 2) && !plain.contains(0, 1), "{plain:?}");
        let inv = InvariantKnnSource::from_augmentation(
            1,
            (8, 8),
            &Augmentation::parse("shift=1").unwrap(),
        )
        .unwrap();
        assert_eq!(inv.transforms.len(), 8);
        let g = inv.graph(&p).unwrap();
        assert!(g.contains(0, 1), "{g:?}");
        assert!(InvariantKnnSource::from_augmentation(
            1,
            (8, 8),
            &Augmentation::parse("noise=0.1").unwrap()
        )
        .is_err());
        let wrong = InvariantKnnSource {
            image: (4, 4),
            ..inv
        };
        assert!(wrong.graph(&p).is_err());
    }
}
