//! Reading back an embedding table (as `drlim embed --out …parquet` writes it): the numeric
//! columns `x0`, `x1`, … are the coordinates, every other column comes along by name.

use std::fs::File;
use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use super::{Dataset, SourceDtype};
use crate::error::{Error, Result};
use crate::output::{ExtraColumn, ExtraValues};

/// An embedding table: the coordinates, and the other columns.
pub struct Table {
    /// The coordinates (`x0`, `x1`, … in order), one row per point.
    pub coords: Dataset,
    /// The other columns (INT32/INT64 as whole numbers, FLOAT/DOUBLE as numbers, anything else
    /// as text).
    pub columns: Vec<ExtraColumn>,
}

/// Reads a Parquet file of coordinates `x0`, `x1`, … and other columns.
pub fn load_table(path: &Path) -> Result<Table> {
    let fail = |e: parquet::errors::ParquetError| Error::data(path, e.to_string());
    let file = File::open(path).map_err(|e| Error::data(path, e.to_string()))?;
    let reader = SerializedFileReader::new(file).map_err(fail)?;
    let schema = reader.metadata().file_metadata().schema_descr();
    let names: Vec<String> = schema
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let dim = (0..)
        .take_while(|j| names.contains(&format!("x{j}")))
        .count();
    if dim == 0 {
        return Err(Error::data(
            path,
            format!(
                "no coordinate columns x0, x1, … (the columns are: {})",
                names.join(", ")
            ),
        ));
    }
    let coord_at: Vec<usize> = (0..dim)
        .map(|j| names.iter().position(|n| *n == format!("x{j}")).unwrap())
        .collect();
    let mut coords = vec![];
    let mut cells: Vec<Vec<Field>> = vec![vec![]; names.len()];
    for row in reader.get_row_iter(None).map_err(fail)? {
        let row = row.map_err(fail)?;
        let fields: Vec<&Field> = row.get_column_iter().map(|(_, f)| f).collect();
        for &k in &coord_at {
            coords.push(number(fields[k]).ok_or_else(|| {
                Error::data(
                    path,
                    format!("column {} holds {}, not a number", names[k], fields[k]),
                )
            })? as f32);
        }
        for (k, f) in fields.iter().enumerate() {
            if !coord_at.contains(&k) {
                cells[k].push((*f).clone());
            }
        }
    }
    let n = coords.len() / dim;
    let coords = Dataset::new(
        path.display().to_string(),
        coords,
        n,
        vec![dim],
        SourceDtype::F32,
    )?;
    let columns = names
        .into_iter()
        .zip(cells)
        .enumerate()
        .filter(|(k, _)| !coord_at.contains(k))
        .map(|(_, (name, c))| ExtraColumn {
            name,
            values: values(c),
        })
        .collect();
    Ok(Table { coords, columns })
}

fn number(f: &Field) -> Option<f64> {
    match *f {
        Field::Float(v) => Some(v as f64),
        Field::Double(v) => Some(v),
        Field::Int(v) => Some(v as f64),
        Field::Long(v) => Some(v as f64),
        _ => None,
    }
}

fn values(cells: Vec<Field>) -> ExtraValues {
    let ints: Option<Vec<i64>> = cells
        .iter()
        .map(|f| match *f {
            Field::Int(v) => Some(v as i64),
            Field::Long(v) => Some(v),
            Field::Short(v) => Some(v as i64),
            Field::Byte(v) => Some(v as i64),
            _ => None,
        })
        .collect();
    if let Some(v) = ints {
        return ExtraValues::Int64(v);
    }
    let numbers: Option<Vec<f64>> = cells.iter().map(number).collect();
    match numbers {
        Some(v) => ExtraValues::Float64(v),
        None => ExtraValues::Text(
            cells
                .iter()
                .map(|f| match f {
                    Field::Str(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::MatrixWriter;

    #[test]
    fn a_written_table_reads_back_with_its_columns() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.parquet");
        let extras = vec![
            ExtraColumn {
                name: "label".into(),
                values: ExtraValues::Int64(vec![4, 9, 4]),
            },
            ExtraColumn {
                name: "slant".into(),
                values: ExtraValues::Float64(vec![0.5, -1.0, 2.0]),
            },
            ExtraColumn {
                name: "name".into(),
                values: ExtraValues::Text(vec!["a".into(), "b".into(), "c".into()]),
            },
        ];
        let mut w = MatrixWriter::create_with(&p, 3, 2, extras.clone()).unwrap();
        w.write_rows(&[0.0, 1.0, 2.0, 3.0]).unwrap(); // two row groups
        w.write_rows(&[4.0, 5.5]).unwrap();
        w.finish().unwrap();
        let t = load_table(&p).unwrap();
        assert_eq!(t.coords.values(), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.5]);
        assert_eq!((t.coords.n, t.coords.dim()), (3, 2));
        assert_eq!(t.columns, extras);
        // extras go into Parquet only, one value per row, under names of their own
        let npy = dir.path().join("e.npy");
        assert!(MatrixWriter::create_with(&npy, 3, 2, extras.clone()).is_err());
        let mut short = extras.clone();
        short[0].values = ExtraValues::Int64(vec![1]);
        assert!(MatrixWriter::create_with(&p, 3, 2, short).is_err());
        let mut clash = extras;
        clash[0].name = "x1".into();
        assert!(MatrixWriter::create_with(&p, 3, 2, clash).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
