//! Writing results atomically: every file is written to a temporary file in the target's
//! folder and renamed into place, so that a failure never leaves a half-written output.

use std::io::Write;

use npyz::WriterBuilder;
use std::path::Path;

use crate::error::{Error, Result};

mod parquet;

use self::parquet::ParquetSink;
pub use self::parquet::{ExtraColumn, ExtraValues};

/// The folder a file at `path` goes into (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `path` atomically for writers that need a file name (such as image encoders, which
/// pick the format from the extension): `write` fills a temporary file named with `suffix`
/// beside `path`, which is then renamed. Errors of `write` are reported against `path`.
pub fn write_atomic_by_name<E: std::fmt::Display>(
    path: &Path,
    suffix: &str,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<()> {
    let tmp = output_file()
        .suffix(suffix)
        .tempfile_in(folder_of(path))
        .map_err(|e| Error::output(path, e))?;
    write(tmp.path()).map_err(|e| Error::output(path, e))?;
    tmp.persist(path)
        .map_err(|e| Error::output(path, e.error))?;
    Ok(())
}

/// The temporary file that becomes an output once complete: created with the mode a plain
/// `File::create` gives (0666 less the umask), not tempfile's private 0600, since it is renamed
/// into the user's file.
fn output_file() -> tempfile::Builder<'static, 'static> {
    let mut b = tempfile::Builder::new();
    b.prefix(".drlim-tmp-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b
}

/// Writes `path` atomically: `write` fills a temporary file beside it, which is then renamed.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<&mut std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let dir = folder_of(path);
    if !dir.is_dir() {
        return Err(Error::output(path, "its folder does not exist"));
    }
    let mut tmp = output_file()
        .tempfile_in(dir)
        .map_err(|e| Error::output(path, e))?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        write(&mut w).map_err(|e| Error::output(path, e))?;
        w.flush().map_err(|e| Error::output(path, e))?;
    }
    tmp.persist(path)
        .map_err(|e| Error::output(path, e.error))?;
    Ok(())
}

/// Replaces the directory `path` as a whole: `fill` writes the new contents into a fresh
/// temporary directory beside it, which then takes `path`'s place in one atomic rename (on
/// Linux an exchange, `renameat2(RENAME_EXCHANGE)`, so `path` never goes missing), and the old
/// contents are removed. Readers and concurrent writers see one complete directory or the
/// other, never a mixture; when `fill` fails (a full disk), the previous directory is left
/// intact and the error says so.
///
/// `owned` names the files such a directory holds: an existing `path` that holds anything
/// else (or is a file) is refused before anything is written, so that a user's folder is
/// never swept away.
pub fn replace_dir(
    path: &Path,
    owned: &[&str],
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    check_replaceable_dir(path, owned)?;
    let parent = folder_of(path);
    if !parent.is_dir() {
        return Err(Error::output(path, "its folder does not exist"));
    }
    let tmp = tempfile::Builder::new()
        .prefix(".drlim-tmp-")
        .tempdir_in(parent)
        .map_err(|e| Error::output(path, e))?;
    if let Err(e) = fill(tmp.path()) {
        return Err(match e {
            Error::Output { path: p, msg } if path.is_dir() => Error::Output {
                path: p,
                msg: format!("{msg}; the previous {} is left intact", path.display()),
            },
            e => e,
        });
    }
    swap_in(tmp.path(), path)?;
    // `tmp` now names the old contents (or nothing): dropping it removes them
    drop(tmp);
    Ok(())
}

/// Checks that `path` is missing, or a directory holding only `owned` files (and the
/// temporary files of an interrupted write), so that [`replace_dir`] may replace it.
pub fn check_replaceable_dir(path: &Path, owned: &[&str]) -> Result<()> {
    if path.is_file() {
        return Err(Error::output(path, "exists and is a file, not a directory"));
    }
    if !path.is_dir() {
        return check_writable(path);
    }
    let entries = std::fs::read_dir(path).map_err(|e| Error::output(path, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::output(path, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = name.starts_with(".drlim-tmp-") || name.starts_with(".drlim-probe-");
        if !owned.contains(&name.as_ref()) && !ours {
            return Err(Error::output(
                path,
                format!(
                    "holds '{name}', which drlim did not write there; the directory is replaced as a whole, so give a new or empty one"
                ),
            ));
        }
    }
    // the new directory is made beside it, and renamed there
    tempfile::Builder::new()
        .prefix(".drlim-probe-")
        .tempfile_in(folder_of(path))
        .map(drop)
        .map_err(|e| Error::output(path, e))
}

/// Moves the complete directory `new` to `dst`, atomically; afterwards `new` holds what `dst`
/// held before (or does not exist).
fn swap_in(new: &Path, dst: &Path) -> Result<()> {
    for _ in 0..100 {
        // a missing or empty `dst` is simply replaced
        match std::fs::rename(new, dst) {
            Ok(()) => return Ok(()),
            Err(e) if !dst.is_dir() => return Err(Error::output(dst, e)),
            Err(_) => {}
        }
        match exchange(new, dst) {
            Ok(()) => return Ok(()),
            // `dst` vanished between the two calls (another writer's fallback): try again
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::output(dst, e)),
        }
    }
    Err(Error::output(dst, "kept changing under concurrent writers"))
}

/// Exchanges two directories in one atomic step.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both are valid NUL-terminated paths, relative to the working directory.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Without an atomic exchange: the old directory is moved aside, the new one into place.
#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    let aside = a.with_extension("old");
    std::fs::rename(b, &aside)?;
    std::fs::rename(a, b)?;
    std::fs::rename(&aside, a)
}

/// Writes bytes atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, |w| w.write_all(bytes))
}

/// Writes a CSV table atomically: the header, then one row per record (whole numbers are
/// written without a decimal point).
pub fn write_csv(path: &Path, header: &[&str], rows: &[Vec<f64>]) -> Result<()> {
    write_atomic(path, |w| {
        writeln!(w, "{}", header.join(","))?;
        for r in rows {
            let cells: Vec<String> = r.iter().map(|v| v.to_string()).collect();
            writeln!(w, "{}", cells.join(","))?;
        }
        Ok(())
    })
}

/// Checks before expensive work that `path` can be created: its folder exists and is
/// writable. Creates nothing that stays.
pub fn check_writable(path: &Path) -> Result<()> {
    let dir = folder_of(path);
    if !dir.is_dir() {
        return Err(Error::output(path, "its folder does not exist"));
    }
    if path.is_dir() {
        return Err(Error::output(path, "it is a folder"));
    }
    tempfile::Builder::new()
        .prefix(".drlim-probe-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| Error::output(path, e))
}

/// The output format of an embedding or other matrix, from the file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatrixFormat {
    /// NumPy `.npy`, little-endian f32.
    Npy,
    /// Comma-separated values with a header row.
    Csv,
    /// Apache Parquet: FLOAT columns `x0`, `x1`, …, and any extra columns alongside.
    Parquet,
}

impl MatrixFormat {
    /// Picks the format from `path`'s extension (`.npy` or `.csv`).
    pub fn from_path(path: &Path) -> Result<Self> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
        {
            Some(e) if e == "npy" => Ok(MatrixFormat::Npy),
            Some(e) if e == "csv" => Ok(MatrixFormat::Csv),
            Some(e) if e == "parquet" => Ok(MatrixFormat::Parquet),
            _ => Err(Error::output(
                path,
                "unknown format: the name must end in .npy, .csv or .parquet",
            )),
        }
    }
}

/// Writes an `rows × cols` row-major f32 matrix as NPY, CSV or Parquet (chosen by extension),
/// atomically.
pub fn write_matrix(path: &Path, values: &[f32], rows: usize, cols: usize) -> Result<()> {
    assert_eq!(values.len(), rows * cols, "matrix size");
    match MatrixFormat::from_path(path)? {
        MatrixFormat::Parquet => {
            let mut w = MatrixWriter::create(path, rows, cols)?;
            w.write_rows(values)?;
            w.finish()
        }
        MatrixFormat::Npy => write_atomic(path, |w| {
            let mut npy = npyz::WriteOptions::<f32>::new()
                .default_dtype()
                .shape(&[rows as u64, cols as u64])
                .writer(w)
                .begin_nd()?;
            npy.extend(values.iter().copied())?;
            npy.finish()
        }),
        MatrixFormat::Csv => write_atomic(path, |w| {
            let header: Vec<String> = (0..cols).map(|j| format!("x{j}")).collect();
            writeln!(w, "{}", header.join(","))?;
            for r in 0..rows {
                let row: Vec<String> = values[r * cols..(r + 1) * cols]
                    .iter()
                    .map(|v| v.to_string())
                    .collect();
                writeln!(w, "{}", row.join(","))?;
            }
            Ok(())
        }),
    }
}

/// A matrix file written block by block, for outputs larger than memory: rows go into a
/// temporary file beside `path` as they come, which becomes `path` only when
/// [`finish`](Self::finish) has written them all; dropped before (an error on the way), it is
/// removed and `path` is left as it was.
pub struct MatrixWriter {
    path: std::path::PathBuf,
    tmp: tempfile::NamedTempFile,
    sink: Sink,
    rows: usize,
    cols: usize,
    written: usize,
}

enum Sink {
    Npy(npyz::NpyWriter<f32, std::io::BufWriter<std::fs::File>>),
    Csv(std::io::BufWriter<std::fs::File>),
    Parquet(Box<ParquetSink>),
}

impl MatrixWriter {
    /// Starts `path` (`.npy`, `.csv` or `.parquet`) for a `rows` × `cols` matrix of f32.
    pub fn create(path: &Path, rows: usize, cols: usize) -> Result<Self> {
        Self::create_with(path, rows, cols, vec![])
    }

    /// Like [`create`](Self::create), with per-row columns written beside the coordinates
    /// (Parquet only; each with `rows` values and a name other than `x0`, `x1`, …).
    pub fn create_with(
        path: &Path,
        rows: usize,
        cols: usize,
        extras: Vec<ExtraColumn>,
    ) -> Result<Self> {
        let format = MatrixFormat::from_path(path)?;
        check_extras(path, format, rows, cols, &extras)?;
        let dir = folder_of(path);
        if !dir.is_dir() {
            return Err(Error::output(path, "its folder does not exist"));
        }
        let tmp = output_file()
            .tempfile_in(dir)
            .map_err(|e| Error::output(path, e))?;
        let file = tmp.reopen().map_err(|e| Error::output(path, e))?;
        let buffered = |file| std::io::BufWriter::with_capacity(1 << 20, file);
        let sink = match format {
            MatrixFormat::Parquet => Sink::Parquet(Box::new(
                ParquetSink::new(file, cols, extras).map_err(|e| Error::output(path, e))?,
            )),
            MatrixFormat::Npy => Sink::Npy(
                npyz::WriteOptions::<f32>::new()
                    .default_dtype()
                    .shape(&[rows as u64, cols as u64])
                    .writer(buffered(file))
                    .begin_nd()
                    .map_err(|e| Error::output(path, e))?,
            ),
            MatrixFormat::Csv => {
                let mut w = buffered(file);
                let header: Vec<String> = (0..cols).map(|j| format!("x{j}")).collect();
                writeln!(w, "{}", header.join(",")).map_err(|e| Error::output(path, e))?;
                Sink::Csv(w)
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            tmp,
            sink,
            rows,
            cols,
            written: 0,
        })
    }

    /// Appends whole rows (`values.len()` a multiple of the columns).
    pub fn write_rows(&mut self, values: &[f32]) -> Result<()> {
        assert!(values.len().is_multiple_of(self.cols), "whole rows");
        let n = values.len() / self.cols;
        assert!(self.written + n <= self.rows, "more rows than declared");
        let err = |e: std::io::Error| Error::output(&self.path, e);
        match &mut self.sink {
            Sink::Npy(npy) => npy.extend(values.iter().copied()).map_err(err)?,
            Sink::Parquet(p) if n > 0 => p
                .write_rows(values)
                .map_err(|e| Error::output(&self.path, e))?,
            Sink::Parquet(_) => {}
            Sink::Csv(w) => {
                for row in values.chunks_exact(self.cols) {
                    let row: Vec<String> = row.iter().map(|v| v.to_string()).collect();
                    writeln!(w, "{}", row.join(",")).map_err(err)?;
                }
            }
        }
        self.written += n;
        Ok(())
    }

    /// Writes the end of the file and moves it to `path` (all declared rows must have come).
    pub fn finish(self) -> Result<()> {
        let Self {
            path,
            tmp,
            sink,
            rows,
            written,
            ..
        } = self;
        assert_eq!(written, rows, "every declared row written");
        let err = |e: std::io::Error| Error::output(&path, e);
        match sink {
            Sink::Npy(npy) => npy.finish().map_err(err)?,
            Sink::Csv(mut w) => w.flush().map_err(err)?,
            Sink::Parquet(p) => p.finish().map_err(|e| Error::output(&path, e))?,
        }
        tmp.as_file().sync_data().map_err(err)?;
        tmp.persist(&path)
            .map_err(|e| Error::output(&path, e.error))?;
        Ok(())
    }
}

/// Extra columns go into Parquet files only, one value per row, under names of their own.
fn check_extras(
    path: &Path,
    format: MatrixFormat,
    rows: usize,
    cols: usize,
    extras: &[ExtraColumn],
) -> Result<()> {
    if extras.is_empty() {
        return Ok(());
    }
    if format != MatrixFormat::Parquet {
        return Err(Error::output(
            path,
            "labels and metadata columns go into .parquet outputs only",
        ));
    }
    let taken: Vec<String> = (0..cols).map(|j| format!("x{j}")).collect();
    let mut seen = std::collections::BTreeSet::new();
    for e in extras {
        if e.len() != rows {
            return Err(Error::output(
                path,
                format!("column '{}' has {} values for {rows} rows", e.name, e.len()),
            ));
        }
        if taken.contains(&e.name) || !seen.insert(e.name.as_str()) || e.name.is_empty() {
            return Err(Error::output(
                path,
                format!("column name '{}' is taken or empty", e.name),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_npy_and_csv_and_leaves_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let npy = dir.path().join("e.npy");
        let csv = dir.path().join("e.csv");
        write_matrix(&npy, &[1.0, 2.0, 3.0, 4.5], 2, 2).unwrap();
        write_matrix(&csv, &[1.0, 2.0, 3.0, 4.5], 2, 2).unwrap();
        assert_eq!(
            std::fs::read_to_string(&csv).unwrap(),
            "x0,x1\n1,2\n3,4.5\n"
        );
        let back = crate::data::load(&npy).unwrap();
        assert_eq!(back.values(), vec![1.0, 2.0, 3.0, 4.5]);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn unwritable_path_is_an_error_naming_the_file() {
        let err = write_matrix(Path::new("/nonexistent-dir/e.npy"), &[1.0], 1, 1).unwrap_err();
        assert!(err.to_string().contains("/nonexistent-dir/e.npy"), "{err}");
        let err = write_matrix(Path::new("e.txt"), &[1.0], 1, 1).unwrap_err();
        assert!(err.to_string().contains(".npy, .csv or .parquet"), "{err}");
    }

    #[test]
    fn a_matrix_written_block_by_block_appears_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let values: Vec<f32> = (0..12).map(|i| i as f32 * 0.5).collect();
        for name in ["m.npy", "m.csv"] {
            let path = dir.path().join(name);
            let mut w = MatrixWriter::create(&path, 6, 2).unwrap();
            w.write_rows(&values[..4]).unwrap();
            assert!(!path.exists(), "nothing at {name} before the end");
            w.write_rows(&values[4..]).unwrap();
            w.finish().unwrap();
            let whole = dir.path().join(format!("whole-{name}"));
            write_matrix(&whole, &values, 6, 2).unwrap();
            assert_eq!(
                std::fs::read(&path).unwrap(),
                std::fs::read(&whole).unwrap(),
                "{name}"
            );
            // abandoned half-way: no output and no temporary file
            let other = dir.path().join(format!("abandoned-{name}"));
            let mut w = MatrixWriter::create(&other, 6, 2).unwrap();
            w.write_rows(&values[..4]).unwrap();
            drop(w);
            assert!(!other.exists());
        }
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".drlim-tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    /// Outputs get the mode an ordinary new file gets (0666 less the umask), not the private
    /// 0600 of a temporary file.
    #[cfg(target_os = "linux")]
    #[test]
    fn outputs_are_created_with_the_usual_mode() {
        use std::os::unix::fs::PermissionsExt;
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let umask = status
            .lines()
            .find_map(|l| l.strip_prefix("Umask:"))
            .map(|u| u32::from_str_radix(u.trim(), 8).unwrap())
            .expect("a Umask line");
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let a = dir.path().join("a.npy");
        write_matrix(&a, &[1.0, 2.0], 1, 2).unwrap();
        assert_eq!(mode(&a), 0o666 & !umask);
        let b = dir.path().join("b.csv");
        let mut w = MatrixWriter::create(&b, 1, 2).unwrap();
        w.write_rows(&[1.0, 2.0]).unwrap();
        w.finish().unwrap();
        assert_eq!(mode(&b), 0o666 & !umask);
        let plain = dir.path().join("plain");
        std::fs::write(&plain, b"x").unwrap();
        assert_eq!(mode(&a), mode(&plain));
    }
}
