//! Numeric CSV files: one sample per row, an optional header row (detected: a first row with a
//! cell that is not a number), the same number of columns in every row.

use std::path::{Path, PathBuf};

use super::{Dataset, SourceDtype};
use crate::error::{Error, Result};

/// The field delimiter for `path`: tab for `.tsv`, else comma.
fn delimiter(path: &Path) -> u8 {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"))
    {
        b'\t'
    } else {
        b','
    }
}

/// A CSV file's data rows one at a time, each checked as it comes: a first row with a cell
/// that is not a number is a header, blank lines are skipped, every row has the first row's
/// number of columns, every cell is a number. Errors name the file, line and column.
struct CsvRows {
    path: PathBuf,
    reader: csv::Reader<std::fs::File>,
    record: csv::StringRecord,
    cells: Vec<f64>,
    line: usize,
    cols: Option<usize>,
}

impl CsvRows {
    fn open(path: &Path) -> Result<Self> {
        let reader = reader(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            reader,
            record: csv::StringRecord::new(),
            cells: Vec::new(),
            line: 0,
            cols: None,
        })
    }

    /// The next data row's cells; `Ok(None)` at the end of the file.
    fn next_row(&mut self) -> Result<Option<&[f64]>> {
        let path = &self.path;
        loop {
            let more = self.reader.read_record(&mut self.record).map_err(|e| {
                Error::data(
                    path,
                    format!("cannot read line {}: {}", self.line + 1, csv_why(&e)),
                )
            })?;
            if !more {
                return Ok(None);
            }
            self.line += 1;
            let record = &self.record;
            if is_blank(record) {
                continue;
            }
            if is_header(self.line, record) {
                self.cols = Some(record.len());
                continue;
            }
            self.cells.clear();
            let mut bad = None;
            for (c, cell) in record.iter().enumerate() {
                match cell.parse::<f64>() {
                    Ok(v) => self.cells.push(v),
                    Err(_) => {
                        bad.get_or_insert((c, cell));
                    }
                }
            }
            let expected = *self.cols.get_or_insert(record.len());
            if record.len() != expected {
                return Err(Error::data(
                    path,
                    format!(
                        "line {} has {} columns, expected {expected} (ragged rows)",
                        self.line,
                        record.len()
                    ),
                ));
            }
            if let Some((c, cell)) = bad {
                return Err(Error::data(
                    path,
                    format!(
                        "line {}, column {}: '{cell}' is not a number",
                        self.line,
                        c + 1
                    ),
                ));
            }
            return Ok(Some(&self.cells));
        }
    }
}

/// Parses all rows into f64 cells; returns (rows, columns, values).
fn read_table(path: &Path) -> Result<(usize, usize, Vec<f64>)> {
    let mut rows = CsvRows::open(path)?;
    let mut values = Vec::new();
    let mut n = 0;
    while let Some(row) = rows.next_row()? {
        values.extend_from_slice(row);
        n += 1;
    }
    Ok((n, rows.cols.unwrap_or(0), values))
}

/// A CSV (or TSV) file of samples read a block of rows at a time, for data larger than memory.
/// Opening counts the data rows in a quick first pass (so that the number of samples is known
/// before any output is written) and reads the first row for the number of columns; every row
/// is then checked as [`load`](super::load) checks it, and each block is checked finite. A file
/// that changes between the two passes is an error.
pub struct CsvStream {
    rows: CsvRows,
    /// Number of samples (data rows).
    pub n: usize,
    /// Shape of one sample: `[columns]`.
    pub shape: Vec<usize>,
    read: usize,
    first: Option<Vec<f64>>,
}

impl CsvStream {
    /// Opens `path` and counts its rows. A file without data rows is an error.
    pub fn open(path: &Path) -> Result<Self> {
        let mut rows = CsvRows::open(path)?;
        let first = rows
            .next_row()?
            .map(<[f64]>::to_vec)
            .ok_or_else(|| Error::data(path, "holds no samples"))?;
        let n = count_rows(path)?;
        Ok(Self {
            shape: vec![first.len()],
            rows,
            n,
            read: 0,
            first: Some(first),
        })
    }

    /// Values per sample (the columns).
    pub fn dim(&self) -> usize {
        self.shape[0]
    }

    /// The next block of at most `max_rows` samples as f32 values in `out` (replaced); `Ok(0)`
    /// at the end. A bad row, a non-finite value or a file that changed since it was counted
    /// is an error naming it.
    pub fn next_block(&mut self, max_rows: usize, out: &mut Vec<f32>) -> Result<usize> {
        out.clear();
        let first = self.read;
        let mut got = 0;
        if let Some(row) = self.first.take() {
            out.extend(row.iter().map(|&v| v as f32));
            got += 1;
        }
        while got < max_rows {
            match self.rows.next_row()? {
                Some(row) => out.extend(row.iter().map(|&v| v as f32)),
                None => break,
            }
            got += 1;
        }
        self.read += got;
        if self.read > self.n || (got < max_rows && self.read != self.n) {
            return Err(Error::data(
                &self.rows.path,
                format!(
                    "changed while being read: {} data rows when opened, {} now",
                    self.n,
                    if self.read > self.n {
                        format!("more than {}", self.n)
                    } else {
                        self.read.to_string()
                    }
                ),
            ));
        }
        super::check_finite(out, self.dim(), first, &self.rows.path)?;
        Ok(got)
    }
}

/// A reader of `path` with the settings every pass uses: no header handling (a header is
/// detected), rows of any length (checked by the caller), cells trimmed.
fn reader(path: &Path) -> Result<csv::Reader<std::fs::File>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(path))
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| Error::data(path, format!("cannot read: {}", csv_why(&e))))
}

/// A line holding nothing but whitespace.
fn is_blank(record: &csv::StringRecord) -> bool {
    record.len() == 1 && record[0].is_empty()
}

/// Whether `record`, on line `line` (1-based, blank lines counted), is a header: the first line
/// with a cell that is not a number. Both passes over a file decide it here.
fn is_header(line: usize, record: &csv::StringRecord) -> bool {
    line == 1 && record.iter().any(|c| c.parse::<f64>().is_err())
}

/// The data rows of a CSV file (blank lines and a header row not counted, as [`CsvRows`]
/// decides them), parsing no cell beyond the first line's.
fn count_rows(path: &Path) -> Result<usize> {
    let mut reader = reader(path)?;
    let mut record = csv::StringRecord::new();
    let (mut n, mut line) = (0, 0);
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            Error::data(
                path,
                format!("cannot read line {}: {}", line + 1, csv_why(&e)),
            )
        })?;
        if !more {
            return Ok(n);
        }
        line += 1;
        if is_blank(&record) {
            continue;
        }
        if !is_header(line, &record) {
            n += 1;
        }
    }
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
        assert_eq!(d.values(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
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

    fn stream_all(path: &Path, rows: usize) -> Result<(Vec<f32>, Vec<usize>)> {
        let mut stream = CsvStream::open(path)?;
        let (mut all, mut block, mut sizes) = (Vec::new(), Vec::new(), Vec::new());
        loop {
            let got = stream.next_block(rows, &mut block)?;
            if got == 0 {
                return Ok((all, sizes));
            }
            sizes.push(got);
            all.extend_from_slice(&block);
        }
    }

    #[test]
    fn streams_blocks_equal_to_reading_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("a\tb\tc\n");
        for i in 0..23 {
            text += &format!("{}\t{}\t{}\n", i, 0.5 * i as f32, -(i as f32));
            if i == 10 {
                text += "\n";
            }
        }
        let p = dir.path().join("t.tsv");
        std::fs::write(&p, &text).unwrap();
        let whole = load_data(&p).unwrap();
        let stream = CsvStream::open(&p).unwrap();
        assert_eq!((stream.n, stream.shape.clone()), (23, vec![3]));
        for rows in [1, 5, 23, 100] {
            let (values, sizes) = stream_all(&p, rows).unwrap();
            assert_eq!(values, whole.values().to_vec(), "blocks of {rows}");
            assert_eq!(sizes.iter().sum::<usize>(), 23);
        }
        // no header, no trailing newline
        let p = file(&dir, "1,2\n3,4");
        assert_eq!(stream_all(&p, 1).unwrap().0, vec![1.0, 2.0, 3.0, 4.0]);
        // found by the fuzzer: a line of Unicode spaces is blank to both passes (the row
        // count once called it a row, and the file seemed to change while being read)
        let p = file(&dir, "\u{3000}\n1\n\u{3000}\u{3000}\n");
        assert_eq!(load_data(&p).unwrap().values(), vec![1.0]);
        assert_eq!(stream_all(&p, 3).unwrap().0, vec![1.0]);
    }

    #[test]
    fn streaming_names_bad_rows_in_later_blocks_and_files_that_change() {
        let dir = tempfile::tempdir().unwrap();
        let rows: String = (0..50).map(|i| format!("{i},{i}\n")).collect();
        // cut halfway through the last row: a ragged row, found in the last block
        let p = file(&dir, &format!("{rows}50"));
        let e = stream_all(&p, 16).unwrap_err().to_string();
        assert!(e.contains("line 51 has 1 columns, expected 2"), "{e}");
        let p = file(&dir, &format!("{rows}1,inf\n"));
        let e = stream_all(&p, 16).unwrap_err().to_string();
        assert!(e.contains("sample 50 (0-based), feature 1"), "{e}");
        // rows appended after opening, or removed (a file larger than the reader's buffer)
        let many: String = (0..5000).map(|i| format!("{i},{i}\n")).collect();
        let p = file(&dir, &many);
        let stream = CsvStream::open(&p).unwrap();
        std::fs::write(&p, format!("{many}{many}")).unwrap();
        let first_error = |mut stream: CsvStream| {
            let mut block = Vec::new();
            (0..20)
                .map(|_| stream.next_block(1024, &mut block))
                .find_map(Result::err)
                .expect("an error")
                .to_string()
        };
        let e = first_error(stream);
        assert!(
            e.contains("changed while being read: 5000 data rows when opened"),
            "{e}"
        );
        let p = file(&dir, &many);
        let stream = CsvStream::open(&p).unwrap();
        std::fs::write(&p, "1,2\n").unwrap();
        let e = first_error(stream);
        // cut mid-row at the end of what was buffered, or between rows
        assert!(
            e.contains("changed while being read") || e.contains("columns, expected 2"),
            "{e}"
        );
        assert!(CsvStream::open(&file(&dir, "a,b\n"))
            .err()
            .unwrap()
            .to_string()
            .contains("holds no samples"));
    }
}
