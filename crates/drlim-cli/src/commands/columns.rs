//! Per-point columns from `--labels` and `--meta`, shared by `view` (colours, hover cards) and
//! `embed` (Parquet columns).

use std::path::Path;

use drlim::data::load_labels;
use drlim::view::{read_csv_columns, Column};
use drlim::{Error, Result};

use super::show;

/// The columns of `labels` (one named `label`) and of `meta` (a CSV file with a header row),
/// each checked to hold a value for every one of the `n` `what` (e.g. "points") of `of`.
pub(crate) fn point_columns(
    labels: Option<&Path>,
    meta: Option<&Path>,
    n: usize,
    of: &Path,
    what: &str,
) -> Result<Vec<Column>> {
    let mut columns = vec![];
    if let Some(l) = labels {
        let values = load_labels(l)?;
        if values.len() != n {
            return Err(Error::data(
                l,
                format!(
                    "holds {} labels for the {n} {what} of {}",
                    values.len(),
                    show(of)
                ),
            ));
        }
        columns.push(Column::labels("label", &values));
    }
    if let Some(m) = meta {
        let read = read_csv_columns(m)?;
        if let Some(c) = read.iter().find(|c| c.len() != n) {
            return Err(Error::data(
                m,
                format!(
                    "has {} rows for the {n} {what} of {} (column '{}')",
                    c.len(),
                    show(of),
                    c.name
                ),
            ));
        }
        columns.extend(read);
    }
    Ok(columns)
}
