//! Prior knowledge from Python: the neighbour sources named by `neighbours`, with their data
//! (`y`, `pairs`, `metadata` + `grid`, `window`), as one engine source (their union).

use drlim::neighbours::{
    GridAdjacency, GridDim, NeighbourSource, PairList, SameLabel, Temporal, Union,
};
use drlim::{Dataset, Error, FitOptions, Result};

/// What the sources need besides the data.
pub struct Knowledge {
    /// Names: `knn`, `labels`, `pairs`, `temporal`, `grid`.
    pub neighbours: Vec<String>,
    /// One label per sample (for `labels`).
    pub labels: Option<Vec<i64>>,
    /// Neighbour pairs (for `pairs`), 0-based.
    pub pairs: Option<Vec<(i64, i64)>>,
    /// Whole-number metadata, one row per sample (for `grid`).
    pub metadata: Option<Vec<Vec<i64>>>,
    /// Grid dimensions: (column, step, period) (for `grid`).
    pub grid: Vec<(i64, i64, Option<i64>)>,
    /// The largest step between neighbours in sample order (for `temporal`).
    pub window: usize,
}

/// The union of the named sources (one source alone as it is).
pub fn build(
    k: &Knowledge,
    data: &Dataset,
    options: &FitOptions,
) -> Result<Box<dyn NeighbourSource>> {
    let n = data.n;
    let mut sources: Vec<Box<dyn NeighbourSource>> = Vec::new();
    let mut names = k.neighbours.clone();
    names.dedup();
    if names.is_empty() {
        return Err(Error::param("neighbours names no source of neighbours"));
    }
    if options.knn_weights != drlim::KnnWeights::Uniform && names != ["knn"] {
        return Err(Error::param(
            "knn_weights='fuzzy' weighs the pairs of the k-NN graph, so it needs neighbours='knn' alone",
        ));
    }
    for name in &names {
        sources.push(match name.as_str() {
            "knn" => drlim::knn_source(data, options)?,
            "labels" => {
                let labels = k.labels.as_ref().ok_or_else(|| {
                    Error::param("neighbours='labels' needs y, the labels, in fit(X, y)")
                })?;
                if labels.len() != n {
                    return Err(Error::param(format!(
                        "y has {} labels but X has {n} samples",
                        labels.len()
                    )));
                }
                Box::new(SameLabel {
                    labels: labels.clone(),
                })
            }
            "pairs" => {
                let pairs = k.pairs.as_ref().ok_or_else(|| {
                    Error::param("neighbours='pairs' needs fit(X, pairs=…), an m×2 array of sample indices")
                })?;
                let mut out = Vec::with_capacity(pairs.len());
                for (r, &(i, j)) in pairs.iter().enumerate() {
                    let ok = |v: i64| (0..n as i64).contains(&v);
                    if !ok(i) || !ok(j) {
                        return Err(Error::param(format!(
                            "pairs row {r} pairs samples {i} and {j}, but X has samples 0 to {}",
                            n - 1
                        )));
                    }
                    out.push((i as u32, j as u32));
                }
                Box::new(PairList { pairs: out })
            }
            "temporal" => {
                if k.window == 0 {
                    return Err(Error::param("window must be at least 1"));
                }
                Box::new(Temporal {
                    window: k.window,
                    sequence: None,
                })
            }
            "grid" => {
                let metadata = k.metadata.as_ref().ok_or_else(|| {
                    Error::param("neighbours='grid' needs fit(X, metadata=…, grid=…)")
                })?;
                if metadata.len() != n {
                    return Err(Error::param(format!(
                        "metadata has {} rows but X has {n} samples",
                        metadata.len()
                    )));
                }
                if k.grid.is_empty() {
                    return Err(Error::param(
                        "neighbours='grid' needs grid=[(column, step) or (column, step, period), …]",
                    ));
                }
                let columns = metadata.first().map_or(0, Vec::len);
                let dims = k
                    .grid
                    .iter()
                    .map(|&(column, step, period)| {
                        GridDim::checked(column, step, period, columns).map_err(|problem| {
                            Error::param(format!("grid ({column}, {step}, {period:?}): {problem}"))
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Box::new(GridAdjacency {
                    metadata: metadata.clone(),
                    dims,
                })
            }
            other => {
                return Err(Error::param(format!(
                    "neighbours: unknown source '{other}' (knn, labels, pairs, temporal or grid)"
                )))
            }
        });
    }
    Ok(if sources.len() == 1 {
        sources.pop().expect("one source")
    } else {
        Box::new(Union(sources))
    })
}
