//! Builds the neighbour source of `drlim fit` from its flags: the union of the named sources.

use std::path::Path;

use drlim::data::load;
use drlim::data::Dataset;
use drlim::neighbours::{
    GridAdjacency, GridDim, NeighbourSource, PairList, SameLabel, Temporal, Union,
};
use drlim::{Error, FitOptions, Result};

use crate::cli::{FitArgs, SourceArg};

/// The neighbour source the flags ask for.
pub fn build(
    a: &FitArgs,
    options: &FitOptions,
    labels: Option<&[i64]>,
    data: &Dataset,
) -> Result<Box<dyn NeighbourSource>> {
    let n = data.n;
    let mut sources: Vec<Box<dyn NeighbourSource>> = Vec::new();
    let mut names = a.neighbours.clone();
    names.dedup();
    if options.knn_weights != drlim::KnnWeights::Uniform && names != [SourceArg::Knn] {
        return Err(Error::param(
            "--knn-weights fuzzy weighs the pairs of the k-NN graph, so it needs --neighbours knn alone",
        ));
    }
    for s in names {
        sources.push(match s {
            SourceArg::Knn => drlim::knn_source(data, options)?,
            SourceArg::Labels => {
                let labels = labels
                    .ok_or_else(|| Error::param("--neighbours labels needs --labels FILE"))?;
                Box::new(SameLabel {
                    labels: labels.to_vec(),
                })
            }
            SourceArg::Pairs => {
                let path = a
                    .pairs
                    .as_ref()
                    .ok_or_else(|| Error::param("--neighbours pairs needs --pairs FILE"))?;
                let rows = integer_rows(path)?;
                if rows.first().is_some_and(|r| r.len() != 2) {
                    return Err(Error::data(
                        path,
                        format!("a pairs file has 2 columns, this one has {}", rows[0].len()),
                    ));
                }
                let mut pairs = Vec::with_capacity(rows.len());
                for (r, row) in rows.iter().enumerate() {
                    let ok = |v: i64| (0..n as i64).contains(&v);
                    if !ok(row[0]) || !ok(row[1]) {
                        return Err(Error::data(
                            path,
                            format!(
                                "row {} pairs samples {} and {}, but the data has samples 0 to {}",
                                r + 1,
                                row[0],
                                row[1],
                                n - 1
                            ),
                        ));
                    }
                    pairs.push((row[0] as u32, row[1] as u32));
                }
                Box::new(PairList { pairs })
            }
            SourceArg::Temporal => {
                if a.window == 0 {
                    return Err(Error::param("--window must be at least 1"));
                }
                Box::new(Temporal {
                    window: a.window,
                    sequence: None,
                })
            }
            SourceArg::Grid => {
                let path = a
                    .metadata
                    .as_ref()
                    .ok_or_else(|| Error::param("--neighbours grid needs --metadata FILE"))?;
                if a.grid.is_empty() {
                    return Err(Error::param(
                        "--neighbours grid needs --grid COLUMN:STEP[:PERIOD],…",
                    ));
                }
                let metadata = integer_rows(path)?;
                if metadata.len() != n {
                    return Err(Error::data(
                        path,
                        format!("holds {} rows but the data has {n} samples", metadata.len()),
                    ));
                }
                let dims = a
                    .grid
                    .iter()
                    .map(|g| grid_dim(g, metadata[0].len()))
                    .collect::<Result<Vec<_>>>()?;
                Box::new(GridAdjacency { metadata, dims })
            }
        });
    }
    Ok(if sources.len() == 1 {
        sources.pop().expect("one source")
    } else {
        Box::new(Union(sources))
    })
}

/// Rows of whole numbers from a CSV or NPY file.
fn integer_rows(path: &Path) -> Result<Vec<Vec<i64>>> {
    let d = load(path)?;
    let dim = d.dim();
    if let Some(pos) = d.values().iter().position(|v| v.fract() != 0.0) {
        return Err(Error::data(
            path,
            format!(
                "row {}, column {} is {}, not a whole number",
                pos / dim + 1,
                pos % dim + 1,
                d.values()[pos]
            ),
        ));
    }
    Ok(d.values()
        .chunks_exact(dim)
        .map(|r| r.iter().map(|&v| v as i64).collect())
        .collect())
}

/// Parses COLUMN:STEP[:PERIOD].
fn grid_dim(spec: &str, columns: usize) -> Result<GridDim> {
    let bad = || {
        Error::param(format!(
            "--grid '{spec}': expected COLUMN:STEP or COLUMN:STEP:PERIOD with whole numbers"
        ))
    };
    let parts: Vec<i64> = spec
        .split(':')
        .map(|p| p.trim().parse::<i64>().map_err(|_| bad()))
        .collect::<Result<_>>()?;
    let (column, step, period) = match parts[..] {
        [c, s] => (c, s, None),
        [c, s, p] => (c, s, Some(p)),
        _ => return Err(bad()),
    };
    GridDim::checked(column, step, period, columns)
        .map_err(|problem| Error::param(format!("--grid '{spec}': {problem}")))
}
