//! Per-point columns a map is coloured by and a hover card shows: categories (labels, strings),
//! numbers (a colour bar) and angles (a colour wheel), and how they are packed into the page.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::error::{Error, Result};

/// A column has this many distinct whole numbers at most to be taken as categories.
pub const MAX_INTEGER_CATEGORIES: usize = 64;

/// The values of one column, one per point.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnValues {
    /// Categories (a palette and a legend whose entries toggle their points).
    Categories(Vec<String>),
    /// Numbers (a colour bar over their 2nd–98th percentiles; NaN is drawn grey).
    Numbers(Vec<f64>),
    /// Angles or other circular values of the given period (a colour wheel).
    Circular {
        /// One value per point.
        values: Vec<f64>,
        /// The period, e.g. 360 for degrees.
        period: f64,
    },
}

/// A named column of per-point values, e.g. labels or a metadata column.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The name shown in the "colour by" list and on the hover card.
    pub name: String,
    /// One value per point.
    pub values: ColumnValues,
}

impl Column {
    /// Integer labels as categories.
    pub fn labels(name: &str, labels: &[i64]) -> Self {
        Column {
            name: name.to_string(),
            values: ColumnValues::Categories(labels.iter().map(|l| l.to_string()).collect()),
        }
    }

    /// Numbers: categories if they are whole numbers with at most [`MAX_INTEGER_CATEGORIES`]
    /// distinct values, else a colour bar.
    pub fn numbers(name: &str, values: Vec<f64>) -> Self {
        let values = if looks_categorical(&values) {
            ColumnValues::Categories(values.iter().map(|x| format_number(*x)).collect())
        } else {
            ColumnValues::Numbers(values)
        };
        Column {
            name: name.to_string(),
            values,
        }
    }

    /// A column read as text (e.g. from a CSV file): numbers if every cell is one, taken as
    /// categories if they are whole numbers with at most [`MAX_INTEGER_CATEGORIES`] distinct
    /// values; otherwise categories.
    pub fn infer(name: &str, cells: Vec<String>) -> Self {
        let numbers: Option<Vec<f64>> = cells.iter().map(|c| c.trim().parse().ok()).collect();
        match numbers {
            Some(v) => Column::numbers(name, v),
            None => Column {
                name: name.to_string(),
                values: ColumnValues::Categories(
                    cells.into_iter().map(|c| c.trim().into()).collect(),
                ),
            },
        }
    }

    /// The same values read as angles of `period` (numbers, or whole-number categories).
    pub fn circular(self, period: f64) -> Result<Self> {
        let values = match self.values {
            ColumnValues::Numbers(v) | ColumnValues::Circular { values: v, .. } => v,
            ColumnValues::Categories(c) => c
                .iter()
                .map(|s| s.parse::<f64>())
                .collect::<std::result::Result<_, _>>()
                .map_err(|_| {
                    Error::param(format!(
                        "column '{}' holds text, not angles: it cannot be circular",
                        self.name
                    ))
                })?,
        };
        if !(period.is_finite() && period > 0.0) {
            return Err(Error::param(format!(
                "the period of column '{}' must be a positive number, not {period}",
                self.name
            )));
        }
        Ok(Column {
            name: self.name,
            values: ColumnValues::Circular { values, period },
        })
    }

    /// A column read from a table (e.g. a Parquet file): whole numbers and numbers as
    /// [`Column::numbers`] takes them, text as categories.
    pub fn from_extra(e: &crate::output::ExtraColumn) -> Self {
        use crate::output::ExtraValues;
        match &e.values {
            ExtraValues::Int64(v) => {
                Column::numbers(&e.name, v.iter().map(|&x| x as f64).collect())
            }
            ExtraValues::Float64(v) => Column::numbers(&e.name, v.clone()),
            ExtraValues::Text(v) => Column {
                name: e.name.clone(),
                values: ColumnValues::Categories(v.clone()),
            },
        }
    }

    /// The column as a Parquet output's column: whole-number categories as INT64, other
    /// categories as text, numbers and angles as DOUBLE.
    pub fn to_extra(&self) -> crate::output::ExtraColumn {
        use crate::output::ExtraValues;
        let values = match &self.values {
            ColumnValues::Categories(c) => {
                match c
                    .iter()
                    .map(|s| s.parse::<i64>())
                    .collect::<std::result::Result<_, _>>()
                {
                    Ok(ints) => ExtraValues::Int64(ints),
                    Err(_) => ExtraValues::Text(c.clone()),
                }
            }
            ColumnValues::Numbers(v) | ColumnValues::Circular { values: v, .. } => {
                ExtraValues::Float64(v.clone())
            }
        };
        crate::output::ExtraColumn {
            name: self.name.clone(),
            values,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match &self.values {
            ColumnValues::Categories(v) => v.len(),
            ColumnValues::Numbers(v) | ColumnValues::Circular { values: v, .. } => v.len(),
        }
    }

    /// Whether the column has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reads per-point columns from a CSV file with a header row (one column per header name; each
/// column's kind inferred by [`Column::infer`]).
pub fn read_csv_columns(path: &Path) -> Result<Vec<Column>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| Error::data(path, e.to_string()))?;
    let names: Vec<String> = reader
        .headers()
        .map_err(|e| Error::data(path, e.to_string()))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if names.is_empty() || names.iter().any(|n| n.is_empty()) {
        return Err(Error::data(
            path,
            "the first row must name every column (a header row)",
        ));
    }
    let mut cells: Vec<Vec<String>> = vec![vec![]; names.len()];
    for (r, record) in reader.records().enumerate() {
        let record = record.map_err(|e| Error::data(path, format!("row {}: {e}", r + 2)))?;
        for (k, cell) in record.iter().enumerate() {
            cells[k].push(cell.to_string());
        }
    }
    if cells[0].is_empty() {
        return Err(Error::data(path, "no rows below the header"));
    }
    Ok(names
        .iter()
        .zip(cells)
        .map(|(n, c)| Column::infer(n, c))
        .collect())
}

fn looks_categorical(v: &[f64]) -> bool {
    let mut distinct = std::collections::BTreeSet::new();
    for x in v {
        if x.fract() != 0.0 || !x.is_finite() {
            return false;
        }
        distinct.insert(*x as i64);
        if distinct.len() > MAX_INTEGER_CATEGORIES {
            return false;
        }
    }
    true
}

fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

/// The categories of a column over every layer, in a stable order: numerically when all are
/// numbers, else alphabetically.
pub(super) fn category_order<'a>(all: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut set: Vec<String> = all
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .cloned()
        .collect();
    let nums: Option<Vec<f64>> = set.iter().map(|s| s.parse().ok()).collect();
    if let Some(nums) = nums {
        let mut pairs: Vec<(f64, String)> = nums.into_iter().zip(set).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        set = pairs.into_iter().map(|p| p.1).collect();
    }
    set
}

/// How one column is written into the page, shared by all layers that have it.
pub(super) enum Shared {
    Categories(Vec<String>),
    Numbers { lo: f64, hi: f64 },
    Circular { period: f64 },
}

/// The shared description of each column name over the layers (the union of categories, the
/// range of numbers); a name used with different kinds is an error.
pub(super) fn share(layers: &[&[Column]]) -> Result<BTreeMap<String, Shared>> {
    let mut by_name: BTreeMap<&str, Vec<&Column>> = BTreeMap::new();
    for cols in layers {
        for c in cols.iter() {
            by_name.entry(&c.name).or_default().push(c);
        }
    }
    let mut out = BTreeMap::new();
    for (name, cols) in by_name {
        let shared = match &cols[0].values {
            ColumnValues::Categories(_) => {
                Shared::Categories(category_order(cols.iter().flat_map(|c| match &c.values {
                    ColumnValues::Categories(v) => v.iter(),
                    _ => [].iter(),
                })))
            }
            ColumnValues::Numbers(_) => {
                let all: Vec<f64> = cols.iter().flat_map(|c| numbers(c)).collect();
                let (lo, hi) = percentile_range(all);
                Shared::Numbers { lo, hi }
            }
            ColumnValues::Circular { period, .. } => Shared::Circular { period: *period },
        };
        if cols.iter().any(|c| !same_kind(&c.values, &cols[0].values)) {
            return Err(Error::param(format!(
                "column '{name}' is of different kinds in different layers"
            )));
        }
        out.insert(name.to_string(), shared);
    }
    Ok(out)
}

fn same_kind(a: &ColumnValues, b: &ColumnValues) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn numbers(c: &Column) -> Vec<f64> {
    match &c.values {
        ColumnValues::Numbers(v) | ColumnValues::Circular { values: v, .. } => v.clone(),
        ColumnValues::Categories(_) => vec![],
    }
}

/// The 2nd and 98th percentiles of the finite values (so that a few outliers do not wash out
/// the colour bar); (0, 1) when there are none.
fn percentile_range(mut v: Vec<f64>) -> (f64, f64) {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return (0.0, 1.0);
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    let (lo, hi) = (at(0.02), at(0.98));
    if hi > lo {
        (lo, hi)
    } else {
        (v[0], v[v.len() - 1])
    }
}

/// The column's entry in the manifest and its bytes (category codes or f32 values).
pub(super) fn pack(c: &Column, shared: &Shared) -> (Value, Vec<u8>) {
    match (&c.values, shared) {
        (ColumnValues::Categories(v), Shared::Categories(cats)) => {
            let code: BTreeMap<&str, u32> = cats
                .iter()
                .enumerate()
                .map(|(k, s)| (s.as_str(), k as u32))
                .collect();
            let width = if cats.len() <= 256 {
                1
            } else if cats.len() <= 65536 {
                2
            } else {
                4
            };
            let mut bytes = Vec::with_capacity(v.len() * width);
            for s in v {
                bytes.extend_from_slice(&code[s.as_str()].to_le_bytes()[..width]);
            }
            let entry = json!({"name": c.name, "kind": "categorical", "categories": cats,
                "code_bytes": width});
            (entry, bytes)
        }
        (ColumnValues::Numbers(v), Shared::Numbers { lo, hi }) => (
            json!({"name": c.name, "kind": "continuous", "lo": lo, "hi": hi}),
            f32_bytes(v),
        ),
        (ColumnValues::Circular { values, .. }, Shared::Circular { period }) => (
            json!({"name": c.name, "kind": "circular", "period": period}),
            f32_bytes(values),
        ),
        _ => unreachable!("share() checked that every layer's column has the same kind"),
    }
}

fn f32_bytes(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| (*x as f32).to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_categories_numbers_and_text() {
        let c = |v: &[&str]| Column::infer("c", v.iter().map(|s| s.to_string()).collect()).values;
        assert_eq!(
            c(&["4", "9", "4.0"]),
            ColumnValues::Categories(vec!["4".into(), "9".into(), "4".into()])
        );
        assert_eq!(c(&["0.5", "2"]), ColumnValues::Numbers(vec![0.5, 2.0]));
        assert_eq!(
            c(&["a", "1"]),
            ColumnValues::Categories(vec!["a".into(), "1".into()])
        );
        let many: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        assert!(matches!(
            Column::infer("n", many).values,
            ColumnValues::Numbers(_)
        ));
    }

    #[test]
    fn categories_are_shared_across_layers_in_numeric_order() {
        let a = [Column::labels("label", &[9, 4, 10])];
        let b = [Column::labels("label", &[2, 4])];
        let shared = share(&[&a, &b]).unwrap();
        let Shared::Categories(cats) = &shared["label"] else {
            panic!("categories")
        };
        assert_eq!(cats, &["2", "4", "9", "10"]);
        let (_, bytes) = pack(&a[0], &shared["label"]);
        assert_eq!(bytes, vec![2, 1, 3]);
        let text = [Column::infer("label", vec!["x".into()]).circular(1.0)];
        assert!(text[0].is_err());
        let num = [Column::infer("label", vec!["0.5".into()])];
        assert!(share(&[&a, &num]).is_err(), "one name, two kinds");
    }

    #[test]
    fn the_colour_bar_spans_the_2nd_to_98th_percentile() {
        let mut v: Vec<f64> = (0..=100).map(f64::from).collect();
        v.push(1e9);
        v.push(f64::NAN);
        let (lo, hi) = percentile_range(v);
        assert!((1.0..=3.0).contains(&lo) && (97.0..=100.0).contains(&hi));
        assert_eq!(percentile_range(vec![5.0; 4]), (5.0, 5.0));
    }
}
