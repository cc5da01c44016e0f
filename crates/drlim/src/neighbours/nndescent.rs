//! Approximate k nearest neighbours by NN-descent (Dong, Moses & Li 2011), the algorithm of
//! UMAP's pynndescent: start from the leaves of random projection trees, then compare each
//! sample's neighbours with one another (a neighbour's neighbour is likely a neighbour) until
//! few lists change. Written here rather than taken from a crate because the graph must be
//! reproducible: every random choice is a hash of the seed and the indices involved, and the
//! updates of each round are applied in one fixed order, so the graph depends on the seed
//! alone, not on the thread count or the scheduling (the HNSW index's parallel inserts are not
//! reproducible).

use rayon::prelude::*;

use super::{NeighbourGraph, NeighbourSource, Points};
use crate::error::{Error, Result};

/// Each sample is a neighbour of its k approximately nearest samples (symmetrised), found by
/// NN-descent.
#[derive(Clone, Debug)]
pub struct NnDescentSource {
    /// Neighbours per sample.
    pub k: usize,
    /// Length of the lists the descent keeps (at least k; the k nearest of each are returned):
    /// longer lists find more of the true k nearest.
    pub list: usize,
    /// Seed of the trees and of the candidate sampling.
    pub seed: u64,
    /// Random projection trees of the initial lists.
    pub trees: usize,
    /// Largest leaf of a tree (every pair in a leaf is compared).
    pub leaf_size: usize,
    /// New and old candidates per sample and round (pynndescent's `max_candidates`).
    pub max_candidates: usize,
    /// Most rounds of NN-descent.
    pub max_rounds: usize,
    /// Stop when a round changes fewer than this fraction of the n·k list entries.
    pub delta: f64,
}

impl NnDescentSource {
    /// Settings measured on 100,000 and 1,000,000 rendered digits against pynndescent
    /// (BENCHMARKS.md, "The neighbour graph"): lists of max(k + 2, 8) (the k nearest of each
    /// are kept), up to k + 5 candidates (16 to 60), 8 trees with leaves of max(k, 10), at
    /// most max(5, log₂ n) rounds, stopping once a round changes under 0.3% of the list
    /// entries. More candidates than the list holds let more of the points that list a sample
    /// (its reverse neighbours) into each round: at 1,000,000, k = 5, 16 candidates instead of
    /// 8 raised the recall from 0.932 to 0.959 and ended in fewer rounds at the same time.
    pub fn new(k: usize, n: usize, seed: u64) -> Self {
        Self {
            k,
            list: (k + 2).max(8),
            seed,
            trees: 8,
            leaf_size: k.max(10),
            max_candidates: (k + 5).clamp(16, 60),
            max_rounds: ((n.max(2) as f64).log2().round() as usize).max(5),
            delta: 0.003,
        }
    }
}

impl NeighbourSource for NnDescentSource {
    fn describe(&self) -> String {
        format!(
            "nndescent-knn(k={}, trees={}, seed={})",
            self.k, self.trees, self.seed
        )
    }

    fn graph(&self, points: &Points) -> Result<NeighbourGraph> {
        self.check_k(points.n)?;
        Ok(self.graph_of(points.n, nndescent_indices(points, self)))
    }

    fn graph_of_bytes(&self, bytes: &[u8], dim: usize) -> Option<Result<NeighbourGraph>> {
        let n = bytes.len() / dim;
        Some(
            self.check_k(n)
                .map(|()| self.graph_of(n, nndescent_indices_of_bytes(bytes, dim, self))),
        )
    }
}

impl NnDescentSource {
    fn check_k(&self, n: usize) -> Result<()> {
        if self.k == 0 || self.k >= n {
            return Err(Error::param(format!(
                "k = {} nearest neighbours needs more than k samples, but the data has {n} (use a smaller k)",
                self.k
            )));
        }
        Ok(())
    }

    /// The graph of each of the `n` samples' `k` neighbours in `idx`.
    fn graph_of(&self, n: usize, idx: Vec<u32>) -> NeighbourGraph {
        let pairs = idx
            .chunks_exact(self.k)
            .enumerate()
            .flat_map(|(i, row)| row.iter().map(move |&j| (i as u32, j)));
        NeighbourGraph::from_pairs(n, pairs)
    }
}

/// The approximate `k` nearest other points of every point, nearest first, `points.n × k`
/// row-major (needs `k < points.n`).
pub fn nndescent_indices(points: &Points, s: &NnDescentSource) -> Vec<u32> {
    let bytes = as_bytes(points);
    let data = Data {
        points,
        bytes: bytes.as_deref(),
        kernels: kernels(),
    };
    descend_all(&data, s)
}

/// [`nndescent_indices`] of samples held as bytes (`n × dim`), without a float copy of them.
pub fn nndescent_indices_of_bytes(bytes: &[u8], dim: usize, s: &NnDescentSource) -> Vec<u32> {
    // no float values: every distance is taken on the bytes
    let points = Points {
        values: &[],
        n: bytes.len() / dim,
        dim,
    };
    let data = Data {
        points: &points,
        bytes: Some(bytes),
        kernels: kernels(),
    };
    descend_all(&data, s)
}

/// The trees, then the rounds of NN-descent, over `data`.
fn descend_all(data: &Data, s: &NnDescentSource) -> Vec<u32> {
    let points = data.points;
    assert!(s.k > 0 && s.k < points.n, "k must be in 1..n");
    let mut lists = Lists::new(points.n, s.list.max(s.k).min(points.n - 1));
    let sketch = random_projection(data, s.seed);
    let coarse = Data {
        points: &Points::new(&sketch, SKETCH_DIM.min(points.dim)),
        bytes: None,
        kernels: data.kernels,
    };
    let forest: Vec<Vec<Vec<u32>>> = (0..s.trees as u64)
        .into_par_iter()
        .map(|tree| rp_tree_leaves(&coarse, s.leaf_size, hash(&[s.seed, 1, tree])))
        .collect();
    for leaves in &forest {
        let updates = leaf_updates(data, leaves, &lists);
        lists.apply(updates);
    }
    lists.fill_random(data, s.seed);
    for round in 0..s.max_rounds {
        let changed = descend(data, &mut lists, s, round as u64);
        if (changed as f64) < s.delta * (points.n * s.k) as f64 {
            break;
        }
    }
    let kept = lists.k;
    lists
        .idx
        .chunks_exact(kept)
        .flat_map(|row| &row[..s.k])
        .copied()
        .collect()
}

/// The points and the distance kernel chosen for this CPU.
struct Data<'a> {
    points: &'a Points<'a>,
    /// The samples as bytes, where that loses nothing (see [`as_bytes`]): a quarter of the
    /// memory traffic, and exact integer sums.
    bytes: Option<&'a [u8]>,
    kernels: Kernels,
}

impl Data<'_> {
    fn d(&self, i: u32, j: u32) -> f32 {
        match self.bytes {
            Some(b) => {
                let dim = self.points.dim;
                let row = |i: u32| &b[i as usize * dim..(i as usize + 1) * dim];
                (self.kernels.dist_u8)(row(i), row(j)) as f32
            }
            None => (self.kernels.dist)(self.points.row(i as usize), self.points.row(j as usize)),
        }
    }

    /// The distances from `u` to four points.
    fn d4(&self, u: u32, v: [u32; 4]) -> [f32; 4] {
        match self.bytes {
            Some(b) => {
                let dim = self.points.dim;
                let row = |i: u32| &b[i as usize * dim..(i as usize + 1) * dim];
                (self.kernels.dist4_u8)(row(u), v.map(row)).map(|d| d as f32)
            }
            None => {
                let row = |i: u32| self.points.row(i as usize);
                (self.kernels.dist4)(row(u), v.map(row))
            }
        }
    }
}

/// The samples as bytes, if they are bytes up to a shift per feature and one common scale
/// (images of 0–255 under the `global` or `auto` normalisation, whose nearest neighbours are
/// those of the raw pixels): each value becomes `(x − min of its feature) / step`, with the
/// step the smallest gap between two values, when every value lands within 0.01 of an integer
/// in 0..=255. Otherwise `None`, and the search runs on the f32 values.
pub(crate) fn as_bytes(points: &Points) -> Option<Vec<u8>> {
    let dim = points.dim;
    let low = points
        .values
        .par_chunks_exact(dim)
        .fold(
            || vec![f32::INFINITY; dim],
            |mut low, row| {
                for (l, &x) in low.iter_mut().zip(row) {
                    *l = l.min(x);
                }
                low
            },
        )
        .reduce(
            || vec![f32::INFINITY; dim],
            |a, b| a.iter().zip(&b).map(|(x, y)| x.min(*y)).collect(),
        );
    // the step: the smallest positive gap above a feature's minimum, over a sample of rows
    let step = points
        .values
        .chunks_exact(dim)
        .take(2000)
        .flat_map(|row| row.iter().zip(&low).map(|(x, l)| x - l))
        .filter(|&g| g > 1e-6)
        .fold(f32::INFINITY, f32::min);
    if !step.is_finite() {
        return None;
    }
    let mut out = vec![0u8; points.values.len()];
    let ok = out
        .par_chunks_mut(dim)
        .zip(points.values.par_chunks_exact(dim))
        .all(|(o, row)| {
            row.iter().zip(&low).zip(o).all(|((x, l), o)| {
                let q = (x - l) / step;
                let r = q.round();
                *o = r as u8;
                (q - r).abs() < 0.01 && r <= 255.0
            })
        });
    ok.then_some(out)
}

/// Every point's neighbour list: k slots sorted by (distance, index), empty slots last
/// (index `EMPTY`, distance ∞), each with a flag saying whether it is new since it was last
/// used as a candidate.
struct Lists {
    k: usize,
    idx: Vec<u32>,
    dist: Vec<f32>,
    new: Vec<bool>,
}

const EMPTY: u32 = u32::MAX;

/// A proposed entry: `target`'s list may take `source` at distance `d`.
type Update = (u32, f32, u32);

impl Lists {
    fn new(n: usize, k: usize) -> Self {
        Self {
            k,
            idx: vec![EMPTY; n * k],
            dist: vec![f32::INFINITY; n * k],
            new: vec![true; n * k],
        }
    }

    /// The distance a point must beat to enter `i`'s list.
    fn bound(&self, i: u32) -> f32 {
        self.dist[i as usize * self.k + self.k - 1]
    }

    /// Applies `updates` in the order of (target, distance, source), whatever order they came
    /// in; returns how many entries changed.
    fn apply(&mut self, updates: Vec<Update>) -> usize {
        // bucket by target (a counting sort: linear, where sorting them all was not)
        let k = self.k;
        let mut starts = vec![0usize; self.idx.len() / k + 1];
        for u in &updates {
            starts[u.0 as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut at = starts.clone();
        let mut bucketed = vec![(0f32, 0u32); updates.len()];
        for &(target, d, source) in &updates {
            bucketed[at[target as usize]] = (d, source);
            at[target as usize] += 1;
        }
        self.idx
            .par_chunks_mut(k)
            .zip(self.dist.par_chunks_mut(k))
            .zip(self.new.par_chunks_mut(k))
            .enumerate()
            .filter(|(i, _)| starts[*i] < starts[*i + 1])
            .map_init(Vec::new, |mine, (i, ((idx, dist), new))| {
                mine.clear();
                mine.extend_from_slice(&bucketed[starts[i]..starts[i + 1]]);
                // one order whatever order they came in: by source, then distance
                mine.sort_unstable_by(|a, b| a.1.cmp(&b.1).then(a.0.total_cmp(&b.0)));
                mine.dedup_by_key(|u| u.1);
                let mut row = Row { idx, dist, new };
                mine.iter().filter(|u| row.insert(u.1, u.0)).count()
            })
            .sum()
    }

    /// Completes lists that the trees left short with random points.
    fn fill_random(&mut self, data: &Data, seed: u64) {
        let n = data.points.n as u64;
        let k = self.k;
        let updates: Vec<Update> = (0..n as u32)
            .into_par_iter()
            .filter(|&i| self.idx[i as usize * k + k - 1] == EMPTY)
            .flat_map_iter(|i| {
                (0..2 * k as u64).filter_map(move |t| {
                    let j = (hash(&[seed, 2, i as u64, t]) % n) as u32;
                    (j != i).then(|| (i, data.d(i, j), j))
                })
            })
            .collect();
        self.apply(updates);
        // still short (tiny or duplicate-heavy data): take the next indices in turn
        for i in 0..n as u32 {
            let mut j = i;
            while self.idx[i as usize * k + k - 1] == EMPTY {
                j = (j + 1) % n as u32;
                if j != i {
                    let d = data.d(i, j);
                    self.row(i).insert(j, d);
                }
            }
        }
    }

    fn row(&mut self, i: u32) -> Row<'_> {
        let r = i as usize * self.k..(i as usize + 1) * self.k;
        Row {
            idx: &mut self.idx[r.clone()],
            dist: &mut self.dist[r.clone()],
            new: &mut self.new[r],
        }
    }
}

/// One point's list, borrowed.
struct Row<'a> {
    idx: &'a mut [u32],
    dist: &'a mut [f32],
    new: &'a mut [bool],
}

impl Row<'_> {
    /// Takes `j` at distance `d` if it beats the last entry and is not there yet.
    fn insert(&mut self, j: u32, d: f32) -> bool {
        let k = self.idx.len();
        let before =
            |dist: &[f32], idx: &[u32], a: usize| idx[a] == EMPTY || (d, j) < (dist[a], idx[a]);
        if !before(self.dist, self.idx, k - 1) || self.idx.contains(&j) {
            return false;
        }
        let mut at = k - 1;
        while at > 0 && before(self.dist, self.idx, at - 1) {
            self.idx[at] = self.idx[at - 1];
            self.dist[at] = self.dist[at - 1];
            self.new[at] = self.new[at - 1];
            at -= 1;
        }
        self.idx[at] = j;
        self.dist[at] = d;
        self.new[at] = true;
        true
    }
}

/// One round: sample each point's new and old candidates (its list and the points that list
/// it), compare every new candidate with every other candidate, keep the closer ones. Returns
/// how many list entries changed.
fn descend(data: &Data, lists: &mut Lists, s: &NnDescentSource, round: u64) -> usize {
    let (new, old) = candidates(lists, s.max_candidates, hash(&[s.seed, 3, round]));
    let m = s.max_candidates;
    // what was sampled as a new candidate is old from now on
    lists
        .idx
        .par_chunks(lists.k)
        .zip(lists.new.par_chunks_mut(lists.k))
        .enumerate()
        .for_each(|(i, (idx, flags))| {
            let sampled = &new[i * m..(i + 1) * m];
            for (j, f) in idx.iter().zip(flags.iter_mut()) {
                *f &= !sampled.contains(j);
            }
        });
    let n = data.points.n;
    // the updates of a block of points are applied before the next block's joins read the
    // bounds; each application walks all n lists, so the blocks grow with n (16 a round)
    let block = (n / 16).clamp(16_384, 1 << 17);
    let mut changed = 0;
    for start in (0..n).step_by(block) {
        let lists_now = &*lists;
        let updates: Vec<Update> = (start..(start + block).min(n))
            .into_par_iter()
            .flat_map_iter(|i| {
                let valid = |c: &[u32]| {
                    c.iter()
                        .copied()
                        .take_while(|&j| j != EMPTY)
                        .collect::<Vec<_>>()
                };
                let (nw, od) = (
                    valid(&new[i * m..(i + 1) * m]),
                    valid(&old[i * m..(i + 1) * m]),
                );
                local_join(data, lists_now, &nw, &od)
            })
            .collect();
        changed += lists.apply(updates);
    }
    changed
}

/// The updates from comparing each new candidate with the later new ones and with the old
/// ones: a pair enters either list it beats.
fn local_join(data: &Data, lists: &Lists, new: &[u32], old: &[u32]) -> Vec<Update> {
    let mut out = Vec::new();
    let mut others = Vec::with_capacity(new.len() + old.len());
    for (a, &u) in new.iter().enumerate() {
        others.clear();
        others.extend(new[a + 1..].iter().chain(old).copied().filter(|&v| v != u));
        let bound_u = lists.bound(u);
        for_distances(data, u, &others, |v, d| {
            if d < bound_u {
                out.push((u, d, v));
            }
            if d < lists.bound(v) {
                out.push((v, d, u));
            }
        });
    }
    out
}

/// Calls `each(v, d(u, v))` for every v of `others`, four at a time.
fn for_distances(data: &Data, u: u32, others: &[u32], mut each: impl FnMut(u32, f32)) {
    let mut quads = others.chunks_exact(4);
    for q in &mut quads {
        let d = data.d4(u, [q[0], q[1], q[2], q[3]]);
        for (&v, d) in q.iter().zip(d) {
            each(v, d);
        }
    }
    for &v in quads.remainder() {
        each(v, data.d(u, v));
    }
}

/// Every point's sampled candidates, n × m each (`EMPTY`-padded): its list's new entries and
/// the points whose new entries name it (likewise the old), at most m of each, those of
/// lowest hashed priority.
fn candidates(lists: &Lists, m: usize, seed: u64) -> (Vec<u32>, Vec<u32>) {
    let (n, k) = (lists.idx.len() / lists.k, lists.k);
    // the points naming each point (source | NEW bit), in index order: its own list is read
    // where it is
    let mut count = vec![0usize; n + 1];
    for &j in lists.idx.iter().filter(|&&j| j != EMPTY) {
        count[j as usize + 1] += 1;
    }
    for i in 1..=n {
        count[i] += count[i - 1];
    }
    let mut reverse = vec![0u32; count[n]];
    let mut at = count.clone();
    for (e, (&j, &fresh)) in lists.idx.iter().zip(&lists.new).enumerate() {
        if j != EMPTY {
            reverse[at[j as usize]] = (e / k) as u32 | if fresh { NEW } else { 0 };
            at[j as usize] += 1;
        }
    }
    let mut new = vec![EMPTY; n * m];
    let mut old = vec![EMPTY; n * m];
    new.par_chunks_mut(m)
        .zip(old.par_chunks_mut(m))
        .enumerate()
        .for_each_init(Vec::new, |pick, (i, (nw, od))| {
            let own = (lists.idx[i * k..(i + 1) * k].iter())
                .zip(&lists.new[i * k..(i + 1) * k])
                .filter(|(&j, _)| j != EMPTY)
                .map(|(&j, &fresh)| j | if fresh { NEW } else { 0 });
            let mine = own.chain(reverse[count[i]..count[i + 1]].iter().copied());
            for (flag, out) in [(NEW, nw), (0, od)] {
                pick.clear();
                pick.extend(
                    mine.clone()
                        .filter(|&e| e & NEW == flag)
                        .map(|e| e & !NEW)
                        .map(|j| (hash(&[seed, i as u64, j as u64]), j)),
                );
                pick.sort_unstable();
                pick.dedup_by_key(|p| p.1);
                for (o, &(_, j)) in out.iter_mut().zip(pick.iter()) {
                    *o = j;
                }
            }
        });
    (new, old)
}

/// The flag bit of a new entry in [`candidates`]' lists (indices stay below 2³¹).
const NEW: u32 = 1 << 31;

/// Coordinates the trees split on: wide samples are first projected on this many random
/// directions (distances roughly kept, as Johnson and Lindenstrauss showed), so that a tree
/// reads a few megabytes per level instead of the whole data.
const SKETCH_DIM: usize = 32;

/// The samples along `SKETCH_DIM` random Gaussian directions drawn from `seed` (the samples
/// themselves where they have no more values than that); each row on its own, so that the
/// result does not depend on the threads.
fn random_projection(data: &Data, seed: u64) -> Vec<f32> {
    let (n, dim) = (data.points.n, data.points.dim);
    // bytes less their feature's smallest value: the same rows whether the samples came as
    // bytes or as floats that `as_bytes` turned into bytes
    let low = data.bytes.map(|b| feature_minima(b, dim));
    let row = |i: usize, buf: &mut Vec<f32>| match (data.bytes, &low) {
        (Some(b), Some(low)) => {
            buf.clear();
            let x = &b[i * dim..(i + 1) * dim];
            buf.extend(x.iter().zip(low).map(|(&v, &l)| f32::from(v - l)));
        }
        _ => {
            buf.clear();
            buf.extend_from_slice(data.points.row(i));
        }
    };
    if dim <= SKETCH_DIM {
        let mut out = Vec::with_capacity(n * dim);
        let mut buf = Vec::new();
        for i in 0..n {
            row(i, &mut buf);
            out.extend_from_slice(&buf);
        }
        return out;
    }
    let directions: Vec<f32> = (0..SKETCH_DIM * dim)
        .map(|e| {
            // Box–Muller from two hashed uniforms
            let u =
                |t: u64| ((hash(&[seed, 4, e as u64, t]) >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
            ((-2.0 * u(0).ln()).sqrt() * (std::f64::consts::TAU * u(1)).cos()) as f32
        })
        .collect();
    let mut out = vec![0f32; n * SKETCH_DIM];
    out.par_chunks_mut(SKETCH_DIM)
        .enumerate()
        .for_each_init(Vec::new, |buf, (i, sketch)| {
            row(i, buf);
            for (o, d) in sketch.iter_mut().zip(directions.chunks_exact(dim)) {
                *o = (data.kernels.dot)(buf, d);
            }
        });
    out
}

/// The smallest value of each of the `dim` features of byte rows.
fn feature_minima(bytes: &[u8], dim: usize) -> Vec<u8> {
    bytes
        .par_chunks_exact(dim)
        .fold(
            || vec![u8::MAX; dim],
            |mut low, row| {
                low.iter_mut().zip(row).for_each(|(l, &x)| *l = (*l).min(x));
                low
            },
        )
        .reduce(
            || vec![u8::MAX; dim],
            |a, b| a.iter().zip(&b).map(|(x, y)| *x.min(y)).collect(),
        )
}

/// The leaves of one random projection tree: each node is split by the hyperplane halfway
/// between two of its points drawn at random, until a leaf holds at most `leaf` points.
fn rp_tree_leaves(data: &Data, leaf: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut leaves = Vec::new();
    let mut todo = vec![((0..data.points.n as u32).collect::<Vec<_>>(), 1u64)];
    while let Some((node, id)) = todo.pop() {
        if node.len() <= leaf {
            leaves.push(node);
            continue;
        }
        let (left, right) = split(data, &node, hash(&[seed, id]));
        todo.push((right, 2 * id + 1));
        todo.push((left, 2 * id));
    }
    leaves
}

/// Splits `node` by the hyperplane between two of its points; a split that leaves one side
/// empty (duplicates) becomes an alternating one.
fn split(data: &Data, node: &[u32], h: u64) -> (Vec<u32>, Vec<u32>) {
    let points = data.points;
    let dot = data.kernels.dot;
    let len = node.len() as u64;
    let a = node[(h % len) as usize] as usize;
    let mut b = node[((h >> 32) % (len - 1)) as usize] as usize;
    if b == a {
        b = node[node.len() - 1] as usize;
    }
    let (pa, pb) = (points.row(a), points.row(b));
    let normal: Vec<f32> = pa.iter().zip(pb).map(|(x, y)| x - y).collect();
    let offset: f32 = pa
        .iter()
        .zip(pb)
        .map(|(x, y)| (x + y) * 0.5 * (x - y))
        .sum();
    let (mut left, mut right): (Vec<u32>, Vec<u32>) = node
        .iter()
        .copied()
        .partition(|&i| dot(points.row(i as usize), &normal) < offset);
    if left.is_empty() || right.is_empty() {
        let all: Vec<u32> = node.to_vec();
        left = all.iter().copied().step_by(2).collect();
        right = all.iter().copied().skip(1).step_by(2).collect();
    }
    (left, right)
}

/// The updates from comparing every pair of points in each leaf.
fn leaf_updates(data: &Data, leaves: &[Vec<u32>], lists: &Lists) -> Vec<Update> {
    leaves
        .par_iter()
        .flat_map_iter(|leaf| {
            let mut out = Vec::new();
            for (a, &u) in leaf.iter().enumerate() {
                let bound_u = lists.bound(u);
                for_distances(data, u, &leaf[a + 1..], |v, d| {
                    if d < bound_u {
                        out.push((u, d, v));
                    }
                    if d < lists.bound(v) {
                        out.push((v, d, u));
                    }
                });
            }
            out
        })
        .collect()
}

/// Squared Euclidean distance in sixteen lanes, which the compiler turns into SIMD.
#[inline(always)]
fn sq_l2_lanes(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..16 {
            let t = x[l] - y[l];
            acc[l] += t * t;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Squared Euclidean distances from `a` to four points at once, in sixteen lanes: `a` is
/// loaded once for all four.
#[inline(always)]
fn sq_l2_4_lanes(a: &[f32], b: [&[f32]; 4]) -> [f32; 4] {
    let mut acc = [[0f32; 16]; 4];
    let full = a.len() / 16 * 16;
    for c in (0..full).step_by(16) {
        let x = &a[c..c + 16];
        for (acc, b) in acc.iter_mut().zip(&b) {
            let y = &b[c..c + 16];
            for l in 0..16 {
                let t = x[l] - y[l];
                acc[l] += t * t;
            }
        }
    }
    let mut out = [0f32; 4];
    for ((o, acc), b) in out.iter_mut().zip(&acc).zip(&b) {
        let tail: f32 = a[full..]
            .iter()
            .zip(&b[full..])
            .map(|(x, y)| (x - y) * (x - y))
            .sum();
        *o = acc.iter().sum::<f32>() + tail;
    }
    out
}

/// Squared Euclidean distance between byte rows, summed exactly in integers.
#[inline(always)]
fn sq_l2_u8_lanes(a: &[u8], b: &[u8]) -> u32 {
    let mut acc = [0i32; 32];
    let (ca, cb) = (a.chunks_exact(32), b.chunks_exact(32));
    let tail = byte_tail(a, b, a.len() / 32 * 32);
    for (x, y) in ca.zip(cb) {
        for l in 0..32 {
            let t = x[l] as i16 - y[l] as i16;
            acc[l] += (t as i32) * (t as i32);
        }
    }
    (acc.iter().sum::<i32>() + tail) as u32
}

/// The squared differences of two byte rows from index `from` on: the part of a row the
/// vector kernels leave after their last full vector.
fn byte_tail(a: &[u8], b: &[u8], from: usize) -> i32 {
    a[from..]
        .iter()
        .zip(&b[from..])
        .map(|(&x, &y)| (x as i32 - y as i32).pow(2))
        .sum()
}

/// [`sq_l2_u8_lanes`] from `a` to four rows at once.
#[inline(always)]
fn sq_l2_u8_4_lanes(a: &[u8], b: [&[u8]; 4]) -> [u32; 4] {
    let mut acc = [[0i32; 32]; 4];
    let full = a.len() / 32 * 32;
    for c in (0..full).step_by(32) {
        let x = &a[c..c + 32];
        for (acc, b) in acc.iter_mut().zip(&b) {
            let y = &b[c..c + 32];
            for l in 0..32 {
                let t = x[l] as i16 - y[l] as i16;
                acc[l] += (t as i32) * (t as i32);
            }
        }
    }
    let mut out = [0u32; 4];
    for ((o, acc), b) in out.iter_mut().zip(&acc).zip(&b) {
        *o = (acc.iter().sum::<i32>() + byte_tail(a, b, full)) as u32;
    }
    out
}

/// Dot product in sixteen lanes.
#[inline(always)]
fn dot_lanes(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..16 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// The two kernels of the search, compiled for one instruction set.
#[derive(Clone, Copy)]
struct Kernels {
    dist: fn(&[f32], &[f32]) -> f32,
    dist_u8: fn(&[u8], &[u8]) -> u32,
    dist4_u8: fn(&[u8], [&[u8]; 4]) -> [u32; 4],
    dist4: fn(&[f32], [&[f32]; 4]) -> [f32; 4],
    dot: fn(&[f32], &[f32]) -> f32,
}

macro_rules! kernels_for {
    ($name:ident, $($feature:literal),*) => {
        #[cfg(target_arch = "x86_64")]
        mod $name {
            $(#[target_feature(enable = $feature)])*
            pub(super) unsafe fn dist(a: &[f32], b: &[f32]) -> f32 {
                super::sq_l2_lanes(a, b)
            }
            $(#[target_feature(enable = $feature)])*
            pub(super) unsafe fn dist4(a: &[f32], b: [&[f32]; 4]) -> [f32; 4] {
                super::sq_l2_4_lanes(a, b)
            }
            $(#[target_feature(enable = $feature)])*
            pub(super) unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
                super::dot_lanes(a, b)
            }
        }
    };
}
kernels_for!(avx512, "avx512f");
kernels_for!(avx2, "avx2");

/// Byte distances with AVX2: 16 bytes widened to 16-bit, subtracted, and squared and summed in
/// pairs into 32-bit lanes (`vpmaddwd`), exactly.
#[cfg(target_arch = "x86_64")]
mod bytes_avx2 {
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2")]
    unsafe fn widen(p: &[u8], at: usize) -> __m256i {
        _mm256_cvtepu8_epi16(_mm_loadu_si128(p.as_ptr().add(at) as *const __m128i))
    }

    #[target_feature(enable = "avx2")]
    unsafe fn total(acc: __m256i) -> i32 {
        let mut lanes = [0i32; 8];
        _mm256_storeu_si256(lanes.as_mut_ptr() as *mut __m256i, acc);
        lanes.iter().sum()
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn dist(a: &[u8], b: &[u8]) -> u32 {
        let full = a.len().min(b.len()) / 16 * 16;
        let mut acc = _mm256_setzero_si256();
        for c in (0..full).step_by(16) {
            let t = _mm256_sub_epi16(widen(a, c), widen(b, c));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(t, t));
        }
        (total(acc) + super::byte_tail(a, b, full)) as u32
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn dist4(a: &[u8], b: [&[u8]; 4]) -> [u32; 4] {
        let full = a.len() / 16 * 16;
        assert!(b.iter().all(|r| r.len() == a.len()), "rows of one length");
        let mut acc = [_mm256_setzero_si256(); 4];
        for c in (0..full).step_by(16) {
            let x = widen(a, c);
            for (acc, b) in acc.iter_mut().zip(&b) {
                let t = _mm256_sub_epi16(x, widen(b, c));
                *acc = _mm256_add_epi32(*acc, _mm256_madd_epi16(t, t));
            }
        }
        let mut out = [0u32; 4];
        for ((o, acc), b) in out.iter_mut().zip(acc).zip(&b) {
            *o = (total(acc) + super::byte_tail(a, b, full)) as u32;
        }
        out
    }
}

/// Byte distances with AVX-512BW: 32 bytes widened to 16-bit, subtracted, and squared and summed in
/// pairs into 32-bit lanes (`vpmaddwd`), exactly.
#[cfg(target_arch = "x86_64")]
mod bytes_avx512 {
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn widen(p: &[u8], at: usize) -> __m512i {
        _mm512_cvtepu8_epi16(_mm256_loadu_si256(p.as_ptr().add(at) as *const __m256i))
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn total(acc: __m512i) -> i32 {
        _mm512_reduce_add_epi32(acc)
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn dist(a: &[u8], b: &[u8]) -> u32 {
        let full = a.len().min(b.len()) / 32 * 32;
        let mut acc = _mm512_setzero_si512();
        for c in (0..full).step_by(32) {
            let t = _mm512_sub_epi16(widen(a, c), widen(b, c));
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(t, t));
        }
        (total(acc) + super::byte_tail(a, b, full)) as u32
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn dist4(a: &[u8], b: [&[u8]; 4]) -> [u32; 4] {
        let full = a.len() / 32 * 32;
        assert!(b.iter().all(|r| r.len() == a.len()), "rows of one length");
        let mut acc = [_mm512_setzero_si512(); 4];
        for c in (0..full).step_by(32) {
            let x = widen(a, c);
            for (acc, b) in acc.iter_mut().zip(&b) {
                let t = _mm512_sub_epi16(x, widen(b, c));
                *acc = _mm512_add_epi32(*acc, _mm512_madd_epi16(t, t));
            }
        }
        let mut out = [0u32; 4];
        for ((o, acc), b) in out.iter_mut().zip(acc).zip(&b) {
            *o = (total(acc) + super::byte_tail(a, b, full)) as u32;
        }
        out
    }
}

/// The exact squared Euclidean distance between two byte rows, by this CPU's fastest kernel.
pub(crate) fn byte_sq_distance() -> fn(&[u8], &[u8]) -> u32 {
    kernels().dist_u8
}

/// The fastest kernels this CPU runs (the same ones for a whole graph, so that the result
/// depends on the CPU's instruction set, not on the run).
fn kernels() -> Kernels {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: each is called only where the CPU has the feature it is compiled for.
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
        {
            return Kernels {
                dist: |a, b| unsafe { avx512::dist(a, b) },
                dist_u8: |a, b| unsafe { bytes_avx512::dist(a, b) },
                dist4_u8: |a, b| unsafe { bytes_avx512::dist4(a, b) },
                dist4: |a, b| unsafe { avx512::dist4(a, b) },
                dot: |a, b| unsafe { avx512::dot(a, b) },
            };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            return Kernels {
                dist: |a, b| unsafe { avx2::dist(a, b) },
                dist_u8: |a, b| unsafe { bytes_avx2::dist(a, b) },
                dist4_u8: |a, b| unsafe { bytes_avx2::dist4(a, b) },
                dist4: |a, b| unsafe { avx2::dist4(a, b) },
                dot: |a, b| unsafe { avx2::dot(a, b) },
            };
        }
    }
    Kernels {
        dist: sq_l2_lanes,
        dist_u8: sq_l2_u8_lanes,
        dist4_u8: sq_l2_u8_4_lanes,
        dist4: sq_l2_4_lanes,
        dot: dot_lanes,
    }
}

/// SplitMix64 over `parts`: the one source of randomness, so that results depend on the
/// seed and the indices alone.
fn hash(parts: &[u64]) -> u64 {
    parts.iter().fold(0x9e37_79b9_7f4a_7c15u64, |h, &p| {
        let mut z = (h ^ p).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neighbours::{knn_indices, recall};
    use rand::{Rng, SeedableRng};

    /// Points on a curved 3-D sheet in 24 dimensions (as images of one object under three
    /// changing conditions are), with a little noise.
    fn sheet(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mix: Vec<f32> = (0..24 * 3)
            .map(|_| rng.random::<f32>() * 2.0 - 1.0)
            .collect();
        (0..n)
            .flat_map(|_| {
                let z: [f32; 3] = std::array::from_fn(|_| rng.random::<f32>() * 3.0);
                let noise: Vec<f32> = (0..24).map(|_| 0.01 * rng.random::<f32>()).collect();
                (0..24)
                    .map(|d| {
                        let m = &mix[d * 3..d * 3 + 3];
                        (m[0] * z[0] + m[1] * z[1] + m[2] * z[2]).sin() + noise[d]
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn finds_the_exact_neighbours_of_generated_data() {
        let v = sheet(4000, 1);
        let p = Points::new(&v, 24);
        for k in [5, 15] {
            let exact = knn_indices(&p, &p, k, true);
            let source = NnDescentSource::new(k, p.n, 0);
            let r = recall(&exact, &nndescent_indices(&p, &source), k);
            assert!(r >= 0.99, "recall@{k} {r}");
            // the graph holds each sample's found neighbours, symmetrised
            assert!(source.graph(&p).unwrap().len() >= p.n * k / 2);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_graph_on_any_thread_count() {
        let v = sheet(3000, 2);
        let p = Points::new(&v, 24);
        let run = |threads: usize, seed: u64| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| nndescent_indices(&p, &NnDescentSource::new(10, p.n, seed)))
        };
        let one = run(1, 7);
        assert_eq!(one, run(2, 7));
        assert_eq!(one, run(3, 7));
        assert_ne!(one, run(2, 8), "another seed should change some list");
    }

    #[test]
    fn normalised_pixels_are_searched_as_their_bytes_and_floats_are_not() {
        // pixels centred per feature and divided by one scale, as the `global` normalisation
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let raw: Vec<u8> = (0..300 * 16).map(|_| rng.random::<u8>()).collect();
        let mean: Vec<f32> = (0..16).map(|c| c as f32 * 3.7).collect();
        let v: Vec<f32> = raw
            .iter()
            .enumerate()
            .map(|(i, &r)| (r as f32 - mean[i % 16]) / 61.3)
            .collect();
        let bytes = as_bytes(&Points::new(&v, 16)).expect("pixels are bytes");
        // each feature shifted to start at 0: the same distances as the raw pixels
        let d = |x: &[u8], i: usize, j: usize| -> i32 {
            (0..16)
                .map(|c| (x[i * 16 + c] as i32 - x[j * 16 + c] as i32).pow(2))
                .sum()
        };
        for (i, j) in [(0, 1), (5, 77), (123, 299)] {
            assert_eq!(d(&bytes, i, j), d(&raw, i, j));
        }
        let noisy: Vec<f32> = v
            .iter()
            .enumerate()
            .map(|(i, x)| x + 0.003 * (i % 5) as f32)
            .collect();
        assert!(as_bytes(&Points::new(&noisy, 16)).is_none());
        // the byte kernels and the f32 kernels give the same distances, up to the scale
        let p = Points::new(&v, 16);
        let (k, b) = (kernels(), Some(&bytes[..]));
        let f32s = Data {
            points: &p,
            bytes: None,
            kernels: k,
        };
        let ints = Data {
            points: &p,
            bytes: b,
            kernels: k,
        };
        let (d4f, d4i) = (f32s.d4(3, [4, 5, 6, 7]), ints.d4(3, [4, 5, 6, 7]));
        for (i, j) in [(0u32, 1u32), (5, 77), (123, 299)] {
            let (x, y) = (f32s.d(i, j), ints.d(i, j) / (61.3f32 * 61.3));
            assert!((x - y).abs() <= 1e-4 * x, "{x} vs {y}");
        }
        for (x, y) in d4f.iter().zip(d4i) {
            assert!((x - y / (61.3f32 * 61.3)).abs() <= 1e-4 * x);
        }
    }

    #[test]
    fn tiny_and_duplicate_data_give_full_lists_without_self() {
        let v = [1.0f32, 1.0, 1.0, 1.0, 2.0, 2.0];
        let p = Points::new(&v, 2);
        let idx = nndescent_indices(&p, &NnDescentSource::new(2, 3, 0));
        for (i, row) in idx.chunks_exact(2).enumerate() {
            assert!(!row.contains(&(i as u32)) && row[0] != row[1], "{idx:?}");
        }
        let e = NnDescentSource::new(3, 3, 0).graph(&p).unwrap_err();
        assert!(e.to_string().contains("k = 3"), "{e}");
    }
}
