//! Neighbour sources from prior knowledge other than input-space distance (Hadsell et al. 2006,
//! §3 and §4.2–4.3): same class label, an explicit list of pairs, known transformations of a
//! sample, adjacency on a grid of metadata (poses, with circular dimensions such as azimuth),
//! closeness in time, and the union of several sources.

use std::collections::HashMap;

use super::{NeighbourGraph, NeighbourSource, Points};
use crate::error::{Error, Result};

/// Samples with the same label are neighbours.
#[derive(Clone, Debug)]
pub struct SameLabel {
    /// One label per sample.
    pub labels: Vec<i64>,
}

impl NeighbourSource for SameLabel {
    fn reads_samples(&self) -> bool {
        false
    }

    fn describe(&self) -> String {
        "same-label".into()
    }

    fn graph(&self, points: &Points) -> Result<NeighbourGraph> {
        check_len("labels", self.labels.len(), points.n)?;
        let mut groups: HashMap<i64, Vec<u32>> = HashMap::new();
        for (i, &l) in self.labels.iter().enumerate() {
            groups.entry(l).or_default().push(i as u32);
        }
        let pairs = groups
            .values()
            .flat_map(|g| all_pairs(g, g))
            .collect::<Vec<_>>();
        Ok(NeighbourGraph::from_pairs(points.n, pairs))
    }
}

/// An explicit list of neighbour pairs (indices into the data, either order).
#[derive(Clone, Debug)]
pub struct PairList {
    /// The pairs.
    pub pairs: Vec<(u32, u32)>,
}

impl NeighbourSource for PairList {
    fn reads_samples(&self) -> bool {
        false
    }

    fn describe(&self) -> String {
        format!("pair-list({} pairs)", self.pairs.len())
    }

    fn graph(&self, points: &Points) -> Result<NeighbourGraph> {
        if let Some(&(a, b)) = self
            .pairs
            .iter()
            .find(|&&(a, b)| a as usize >= points.n || b as usize >= points.n)
        {
            return Err(Error::param(format!(
                "pair ({a}, {b}) names a sample beyond the {} in the data",
                points.n
            )));
        }
        Ok(NeighbourGraph::from_pairs(
            points.n,
            self.pairs.iter().copied(),
        ))
    }
}

/// Samples at most `window` steps apart in a sequence are neighbours (consecutive frames).
/// With `sequence` ids, samples of different sequences never are.
#[derive(Clone, Debug)]
pub struct Temporal {
    /// Largest step between neighbours (1: consecutive samples only).
    pub window: usize,
    /// Optional sequence id per sample; the data's order is the time order within a sequence.
    pub sequence: Option<Vec<i64>>,
}

impl NeighbourSource for Temporal {
    fn reads_samples(&self) -> bool {
        false
    }

    fn describe(&self) -> String {
        format!("temporal(window={})", self.window)
    }

    fn graph(&self, points: &Points) -> Result<NeighbourGraph> {
        if let Some(s) = &self.sequence {
            check_len("sequence ids", s.len(), points.n)?;
        }
        let n = points.n;
        let same_seq = |i: usize, j: usize| self.sequence.as_ref().is_none_or(|s| s[i] == s[j]);
        let pairs = (0..n)
            .flat_map(|i| (i + 1..(i + 1 + self.window).min(n)).map(move |j| (i, j)))
            .filter(|&(i, j)| same_seq(i, j))
            .map(|(i, j)| (i as u32, j as u32))
            .collect::<Vec<_>>();
        Ok(NeighbourGraph::from_pairs(n, pairs))
    }
}

/// One dimension of a metadata grid.
#[derive(Clone, Debug)]
pub struct GridDim {
    /// The column of the metadata.
    pub column: usize,
    /// The grid step in that column (e.g. 20 for azimuths 0, 20, …, 340).
    pub step: i64,
    /// For a circular dimension, its period (360 for azimuth): the last value is adjacent to the
    /// first.
    pub period: Option<i64>,
}

impl GridDim {
    /// The dimension along metadata column `column` (0-based, of `columns`), checked: the
    /// column exists, the step and the period are positive. `Err` holds the problem, for a
    /// front end to prefix with how the user wrote it.
    pub fn checked(
        column: i64,
        step: i64,
        period: Option<i64>,
        columns: usize,
    ) -> std::result::Result<Self, String> {
        if column < 0 || column as usize >= columns {
            return Err(format!(
                "column {column} is not among the metadata's {columns} columns (0-based)"
            ));
        }
        if step <= 0 || period.is_some_and(|p| p <= 0) {
            return Err("step and period must be positive".into());
        }
        Ok(GridDim {
            column: column as usize,
            step,
            period,
        })
    }
}

/// Samples whose metadata differ by one step in exactly one of `dims` and agree on the other
/// `dims` are neighbours, whatever the other columns (the NORB experiment: adjacent poses,
/// whatever the lighting).
#[derive(Clone, Debug)]
pub struct GridAdjacency {
    /// Metadata, one row per sample.
    pub metadata: Vec<Vec<i64>>,
    /// The grid dimensions.
    pub dims: Vec<GridDim>,
}

impl NeighbourSource for GridAdjacency {
    fn reads_samples(&self) -> bool {
        false
    }

    fn describe(&self) -> String {
        let d: Vec<String> = self
            .dims
            .iter()
            .map(|d| {
                format!(
                    "col{}±{}{}",
                    d.column,
                    d.step,
                    if d.period.is_some() { " circular" } else { "" }
                )
            })
            .collect();
        format!("grid({})", d.join(", "))
    }

    fn graph(&self, points: &Points) -> Result<NeighbourGraph> {
        check_len("metadata rows", self.metadata.len(), points.n)?;
        for d in &self.dims {
            if d.step <= 0 {
                return Err(Error::param("grid steps must be positive"));
            }
            if let Some(bad) = self.metadata.iter().position(|r| r.len() <= d.column) {
                return Err(Error::param(format!(
                    "metadata row {bad} has no column {}",
                    d.column
                )));
            }
        }
        let key = |row: &[i64]| -> Vec<i64> {
            self.dims
                .iter()
                .map(|d| {
                    d.period
                        .map_or(row[d.column], |p| row[d.column].rem_euclid(p))
                })
                .collect()
        };
        let mut cells: HashMap<Vec<i64>, Vec<u32>> = HashMap::new();
        for (i, row) in self.metadata.iter().enumerate() {
            cells.entry(key(row)).or_default().push(i as u32);
        }
        let mut pairs = Vec::new();
        for (cell, members) in &cells {
            for (k, d) in self.dims.iter().enumerate() {
                // the next cell up in dimension k (each adjacent pair of cells is visited once)
                let mut next = cell.clone();
                next[k] += d.step;
                if let Some(p) = d.period {
                    next[k] = next[k].rem_euclid(p);
                    if next[k] == cell[k] {
                        continue;
                    }
                }
                if let Some(other) = cells.get(&next) {
                    pairs.extend(all_pairs(members, other));
                }
            }
        }
        Ok(NeighbourGraph::from_pairs(points.n, pairs))
    }
}

/// The paper's rule for transformed copies (§4.2): each sample comes from an original; two
/// samples are neighbours when they come from the same original (a sample and its shifted
/// copies) or from originals that are neighbours in `base` (a sample's k nearest neighbours and
/// all their copies).
#[derive(Clone, Debug)]
pub struct TransformGroups {
    /// For each sample, the index of its original (0..base.n()).
    pub origin: Vec<u32>,
    /// The neighbour graph over the originals.
    pub base: NeighbourGraph,
}

impl NeighbourSource for TransformGroups {
    fn reads_samples(&self) -> bool {
        false
    }

    fn describe(&self) -> String {
        format!(
            "transform-groups({} originals, {} base pairs)",
            self.base.n(),
            self.base.len()
        )
    }

    fn graph(&self, points: &Points) -> Result<NeighbourGraph> {
        check_len("origins", self.origin.len(), points.n)?;
        let mut groups: Vec<Vec<u32>> = vec![Vec::new(); self.base.n()];
        for (i, &o) in self.origin.iter().enumerate() {
            let g = groups.get_mut(o as usize).ok_or_else(|| {
                Error::param(format!(
                    "sample {i} has origin {o} beyond the {} originals",
                    self.base.n()
                ))
            })?;
            g.push(i as u32);
        }
        let within = groups.iter().flat_map(|g| all_pairs(g, g));
        let across = self
            .base
            .pairs()
            .iter()
            .flat_map(|&(a, b)| all_pairs(&groups[a as usize], &groups[b as usize]));
        Ok(NeighbourGraph::from_pairs(
            points.n,
            within.chain(across).collect::<Vec<_>>(),
        ))
    }
}

/// The union of several sources: a pair is a neighbour pair if any source says so.
pub struct Union(pub Vec<Box<dyn NeighbourSource>>);

impl NeighbourSource for Union {
    fn describe(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(|s| s.describe()).collect();
        format!("union({})", parts.join(" + "))
    }

    fn graph(&self, points: &Points) -> Result<NeighbourGraph> {
        let mut pairs = Vec::new();
        for s in &self.0 {
            pairs.extend_from_slice(s.graph(points)?.pairs());
        }
        Ok(NeighbourGraph::from_pairs(points.n, pairs))
    }

    fn reads_samples(&self) -> bool {
        self.0.iter().any(|s| s.reads_samples())
    }

    /// Each part from the bytes, or from the count alone; `None` if a part that reads the
    /// samples cannot read bytes.
    fn graph_of_bytes(&self, bytes: &[u8], dim: usize) -> Option<Result<NeighbourGraph>> {
        let n = bytes.len() / dim;
        let mut pairs = Vec::new();
        for s in &self.0 {
            let graph = match s.reads_samples() {
                true => s.graph_of_bytes(bytes, dim)?,
                false => s.graph(&Points::count_only(n, dim)),
            };
            match graph {
                Ok(g) => pairs.extend_from_slice(g.pairs()),
                Err(e) => return Some(Err(e)),
            }
        }
        Some(Ok(NeighbourGraph::from_pairs(n, pairs)))
    }
}

fn check_len(what: &str, got: usize, n: usize) -> Result<()> {
    if got == n {
        Ok(())
    } else {
        Err(Error::param(format!("{got} {what} for {n} samples")))
    }
}

/// Every pair (a, b) with a from `x` and b from `y`, a ≠ b.
fn all_pairs<'a>(x: &'a [u32], y: &'a [u32]) -> impl Iterator<Item = (u32, u32)> + 'a {
    x.iter()
        .flat_map(move |&a| y.iter().filter(move |&&b| b != a).map(move |&b| (a, b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(n: usize) -> Vec<f32> {
        vec![0.0; n]
    }

    #[test]
    fn same_label_pairs_within_classes() {
        let v = pts(5);
        let g = SameLabel {
            labels: vec![4, 9, 4, 9, 4],
        }
        .graph(&Points::new(&v, 1))
        .unwrap();
        assert_eq!(g.pairs(), &[(0, 2), (0, 4), (1, 3), (2, 4)]);
    }

    #[test]
    fn pair_list_checks_indices() {
        let v = pts(3);
        let g = PairList {
            pairs: vec![(2, 0), (0, 2), (1, 2)],
        }
        .graph(&Points::new(&v, 1))
        .unwrap();
        assert_eq!(g.pairs(), &[(0, 2), (1, 2)]);
        assert!(PairList {
            pairs: vec![(0, 3)]
        }
        .graph(&Points::new(&v, 1))
        .is_err());
    }

    #[test]
    fn temporal_window_and_sequences() {
        let v = pts(5);
        let g = Temporal {
            window: 2,
            sequence: None,
        }
        .graph(&Points::new(&v, 1))
        .unwrap();
        assert_eq!(
            g.pairs(),
            &[(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (2, 4), (3, 4)]
        );
        let g = Temporal {
            window: 1,
            sequence: Some(vec![0, 0, 1, 1, 1]),
        }
        .graph(&Points::new(&v, 1))
        .unwrap();
        assert_eq!(g.pairs(), &[(0, 1), (2, 3), (3, 4)]);
    }

    #[test]
    fn grid_adjacency_wraps_azimuth_and_ignores_lighting() {
        // columns: azimuth (0, 120, 240; circular, step 120), elevation (30, 35), lighting (0, 1)
        let mut meta = Vec::new();
        for az in [0, 120, 240] {
            for el in [30, 35] {
                for light in [0, 1] {
                    meta.push(vec![az, el, light]);
                }
            }
        }
        let v = pts(meta.len());
        let dims = vec![
            GridDim {
                column: 0,
                step: 120,
                period: Some(360),
            },
            GridDim {
                column: 1,
                step: 5,
                period: None,
            },
        ];
        let g = GridAdjacency {
            metadata: meta.clone(),
            dims,
        }
        .graph(&Points::new(&v, 1))
        .unwrap();
        let idx = |az: i64, el: i64, l: i64| {
            meta.iter().position(|r| r == &vec![az, el, l]).unwrap() as u32
        };
        // same pose, other lighting: not a neighbour by this rule
        assert!(!g.contains(idx(0, 30, 0), idx(0, 30, 1)));
        // one azimuth step, any lighting
        assert!(g.contains(idx(0, 30, 0), idx(120, 30, 1)));
        // the wrap: 240 and 0 are adjacent
        assert!(g.contains(idx(240, 35, 1), idx(0, 35, 0)));
        // one elevation step
        assert!(g.contains(idx(120, 30, 0), idx(120, 35, 0)));
        // diagonal steps are not adjacent
        assert!(!g.contains(idx(0, 30, 0), idx(120, 35, 0)));
        // each pose cell (2 samples) has 2 azimuth + 1 elevation neighbours: 6 cells × 3 / 2 = 9
        // undirected cell pairs × 4 sample pairs
        assert_eq!(g.len(), 9 * 4);
    }

    #[test]
    fn transform_groups_follow_the_papers_rule() {
        // originals 0..3 with base edges 0–1; samples: each original and one shifted copy
        let base = NeighbourGraph::from_pairs(3, [(0, 1)]);
        let origin = vec![0, 1, 2, 0, 1, 2];
        let v = pts(6);
        let g = TransformGroups { origin, base }
            .graph(&Points::new(&v, 1))
            .unwrap();
        // (b) own copies
        assert!(g.contains(0, 3) && g.contains(2, 5));
        // (a) and (c) the neighbour and its copies; (d) copies with all of these
        assert!(g.contains(0, 1) && g.contains(0, 4) && g.contains(3, 1) && g.contains(3, 4));
        // nothing links to original 2's group
        assert!(!g.contains(0, 2) && !g.contains(1, 5));
        // three own-copy pairs, and 2 × 2 pairs across the base edge
        assert_eq!(g.len(), 3 + 4);
    }

    #[test]
    fn union_merges_sources() {
        let v = pts(4);
        let u = Union(vec![
            Box::new(PairList {
                pairs: vec![(0, 1)],
            }),
            Box::new(Temporal {
                window: 1,
                sequence: None,
            }),
        ]);
        let g = u.graph(&Points::new(&v, 1)).unwrap();
        assert_eq!(g.pairs(), &[(0, 1), (1, 2), (2, 3)]);
        assert!(u.describe().starts_with("union(pair-list"));
    }
}
