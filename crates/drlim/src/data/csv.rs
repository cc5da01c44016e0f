//! Numeric CSV files: one sample per row, an optional header row (detected: a first row with a
//! cell that is not a number), the same number of columns in every row.

use std::path::Path;

use super::{Dataset, SourceDtype};
use crate::error::{Error, Result};

/// Parses all rows into f64 cells; returns (rows, columns, values).
fn read_table(path: &Path) -> Result<(usize, usize, Vec<f64>)> {
    let delimiter = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"))
    {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| Error::data(path, format!("cannot read: {}", csv_why(&e))))?;
    let mut values = Vec::new();
    let mut cols = None;
    let mut rows = 0;
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            Error::data(
                path,
                format!("cannot read line {}: {}", line + 1, csv_why(&e)),
            )
        })?;
        if record.len() == 1 && record[0].is_empty() {
            continue; // blank line
        }
        let parsed: Vec<Option<f64>> = record.iter().map(|c| c.parse::<f64>().ok()).collect();
        if line == 0 && parsed.iter().any(Option::is_none) {
            cols = Some(record.len()); // header row
            continue;
        }
        let expected = *cols.get_or_insert(record.len());
        if record.len() != expected {
            return Err(Error::data(
                path,
                format!(
                    "line {} has {} columns, expected {expected} (ragged rows)",
                    line + 1,
                    record.len()
                ),
            ));
        }
        for (c, (cell, v)) in record.iter().zip(parsed).enumerate() {
            match v {
                Some(v) => values.push(v),
                None => {
                    return Err(Error::data(
                        path,
                        format!(
                            "line {}, column {}: '{cell}' is not a number",
                            line + 1,
                            c + 1
                        ),
                    ))
                }
            }
        }
        rows += 1;
    }
    Ok((rows, cols.unwrap_or(0), values))
}

fn csv_why(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
            "no such file".into()
        }
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text (is it a binary file?)".into(),
        _ => e.to_string(),
    }
}

pub(super) fn load_data(path: &Path) -> Result<Dataset> {
    let (rows, cols, values) = read_table(path)?;
    Dataset::new(
        path,
        values.into_iter().map(|v| v as f32).collect(),
        rows,
        vec![cols],
        SourceDtype::F64,
    )
}

pub(super) fn load_labels(path: &Path) -> Result<Vec<i64>> {
    let (rows, cols, values) = read_table(path)?;
    if rows == 0 {
        return Err(Error::data(path, "holds no labels"));
    }
    if cols != 1 {
        return Err(Error::data(
            path,
            format!("a labels CSV has one column, this one has {cols}"),
        ));
    }
    super::whole_labels(path, &values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
        let p = dir.path().join("t.csv");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_with_and_without_header() {
        let dir = tempfile::tempdir().unwrap();
        let d = load_data(&file(&dir, "a,b,c\n1,2,3\n4, 5 ,6e0\n")).unwrap();
        assert_eq!((d.n, d.shape.clone()), (2, vec![3]));
        assert_eq!(d.values, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let d = load_data(&file(&dir, "1,2\n3,4\n\n")).unwrap();
        assert_eq!(d.n, 2);
        assert_eq!(
            load_labels(&file(&dir, "label\n4\n9\n")).unwrap(),
            vec![4, 9]
        );
    }

    #[test]
    fn names_row_and_column_of_bad_cells_and_ragged_rows() {
        let dir = tempfile::tempdir().unwrap();
        let e = load_data(&file(&dir, "1,2\n3,x\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with("t.csv: line 2, column 2: 'x' is not a number"),
            "{e}"
        );
        let e = load_data(&file(&dir, "1,2\n3\n")).unwrap_err().to_string();
        assert!(e.contains("line 2 has 1 columns, expected 2"), "{e}");
        let e = load_data(&file(&dir, "1,nan\n")).unwrap_err().to_string();
        assert!(e.contains("NaN"), "{e}");
        assert!(load_data(&file(&dir, "a,b\n"))
            .unwrap_err()
            .to_string()
            .contains("empty"));
        let e = load_data(&dir.path().join("missing.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.csv: cannot read: no such file"), "{e}");
    }
}
