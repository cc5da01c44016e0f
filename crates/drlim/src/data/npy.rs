//! NumPy `.npy` files: u8, f32 or f64 data of shape n×D, n×H×W or n×1×H×W; integer or
//! whole-number float labels of shape n or n×1.

use std::path::Path;

use npyz::{DType, NpyFile, Order, TypeChar};

use super::{read_file, Dataset, SourceDtype};
use crate::error::{Error, Result};

/// Opens an NPY file held in `bytes`, checking before anything is allocated that the data after
/// the header is exactly what the header's shape and dtype claim (a hostile or truncated header
/// cannot make the reader allocate more than the file holds).
fn open<'a>(path: &Path, bytes: &'a [u8]) -> Result<NpyFile<&'a [u8]>> {
    open_prefix(path, bytes, bytes.len())
}

/// [`open`] on the first bytes of a file of `file_len` bytes (at least its whole header): the
/// data after the header must be exactly what the header claims.
fn open_prefix<'a>(path: &Path, bytes: &'a [u8], file_len: usize) -> Result<NpyFile<&'a [u8]>> {
    let header = header_span(bytes);
    // npyz allocates the header length it reads (up to 4 GiB): check it against the file first
    if bytes.starts_with(b"\x93NUMPY") && bytes.len() >= 12 && header.is_none() {
        return Err(Error::data(
            path,
            format!(
                "not a valid NPY file: its header claims more bytes than the file's {}",
                bytes.len()
            ),
        ));
    }
    // npyz's header parser backtracks: nested brackets make it take seconds to minutes. A plain
    // array's header is one flat dictionary of a few dozen bytes; refuse anything else first.
    if let Some(span) = header.clone() {
        let text = &bytes[span.clone()];
        let opens = |c: u8| text.iter().filter(|&&b| b == c).count();
        if span.end > 1 << 16 || opens(b'{') > 1 || opens(b'[') > 0 || opens(b'(') > 1 {
            return Err(Error::data(
                path,
                "not a valid NPY file: its header is not one flat dictionary of a plain array (structured dtypes are not supported)",
            ));
        }
    }
    let npy =
        NpyFile::new(bytes).map_err(|e| Error::data(path, format!("not a valid NPY file: {e}")))?;
    let data_len = file_len - header.expect("npyz parsed the header").end;
    let shape = npy.shape().to_vec();
    let item = match npy.dtype() {
        DType::Plain(ts) => ts.size_field(),
        _ => 1,
    };
    let claimed = shape
        .iter()
        .try_fold(item, |a, &d| a.checked_mul(d))
        .and_then(|b| usize::try_from(b).ok())
        .ok_or_else(|| {
            Error::data(
                path,
                format!("NPY shape {shape:?} overflows: its size cannot be represented"),
            )
        })?;
    if claimed != data_len {
        let what = if data_len < claimed {
            "truncated"
        } else {
            "longer than its header says"
        };
        return Err(Error::data(
            path,
            format!("NPY data {what}: shape {shape:?} needs {claimed} bytes after the header, the file has {data_len}"),
        ));
    }
    Ok(npy)
}

/// Where the header dictionary of an NPY file lies: after the magic (6 bytes), the version (2)
/// and the header length (2 bytes in version 1, 4 after); its end is where the data starts.
/// `None` when the length field is missing or claims more than the file holds.
fn header_span(bytes: &[u8]) -> Option<std::ops::Range<usize>> {
    let width = if *bytes.get(6)? == 1 { 2 } else { 4 };
    let field = bytes.get(8..8 + width)?;
    let len = field
        .iter()
        .rev()
        .fold(0usize, |a, &b| (a << 8) | b as usize);
    let start = 8 + width;
    Some(start..start + len).filter(|r| r.end <= bytes.len())
}

fn type_of(path: &Path, npy: &NpyFile<&[u8]>) -> Result<(TypeChar, u64)> {
    match npy.dtype() {
        DType::Plain(ts) => Ok((ts.type_char(), ts.size_field())),
        other => Err(Error::data(
            path,
            format!(
                "NPY dtype {} is not supported (use u8, f32 or f64)",
                other.descr()
            ),
        )),
    }
}

fn truncated(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::data(path, format!("NPY data is truncated or unreadable: {e}"))
}

pub(super) fn load_data(path: &Path) -> Result<Dataset> {
    let bytes = read_file(path)?;
    let npy = open(path, &bytes)?;
    let (tc, size) = type_of(path, &npy)?;
    let shape: Vec<usize> = npy.shape().iter().map(|&s| s as usize).collect();
    let fortran = npy.order() == Order::Fortran;
    let sample_shape = sample_shape(path, &shape)?;
    let c_order = |v: Vec<_>| if fortran { fortran_to_c(&v, &shape) } else { v };
    let floats = |dtype, values: Vec<f32>| {
        Dataset::new(path, c_order(values), shape[0], sample_shape.clone(), dtype)
    };
    match (tc, size) {
        (TypeChar::Uint, 1) if !fortran => {
            // the values follow the header: kept in place, without a second copy
            let len = shape.iter().product::<usize>();
            drop(npy);
            let start = data_offset(&bytes)
                .filter(|&start| bytes.len() >= start + len)
                .ok_or_else(|| {
                    Error::data(
                        path,
                        "NPY data is truncated: fewer bytes than its shape needs",
                    )
                })?;
            let mut bytes = bytes;
            bytes.truncate(start + len);
            bytes.drain(..start);
            bytes.shrink_to_fit();
            Dataset::from_bytes(path, bytes, shape[0], sample_shape)
        }
        (TypeChar::Uint, 1) => {
            let bytes = npy.into_vec::<u8>().map_err(truncated(path))?;
            let bytes = fortran_to_c(&bytes, &shape);
            Dataset::from_bytes(path, bytes, shape[0], sample_shape)
        }
        (TypeChar::Float, 4) => floats(
            SourceDtype::F32,
            npy.into_vec::<f32>().map_err(truncated(path))?,
        ),
        (TypeChar::Float, 8) => floats(
            SourceDtype::F64,
            npy.into_vec::<f64>()
                .map_err(truncated(path))?
                .into_iter()
                .map(|v| v as f32)
                .collect(),
        ),
        _ => {
            let descr = npy.dtype().descr();
            Err(Error::data(
                path,
                format!("NPY dtype {descr} is not supported (use u8, f32 or f64)"),
            ))
        }
    }
}

/// Where an NPY file's values start: after the magic string, the version, the header's length
/// (2 bytes in version 1, 4 after) and the header.
fn data_offset(bytes: &[u8]) -> Option<usize> {
    let le = |at: usize, n: usize| {
        let b = bytes.get(at..at + n)?;
        Some(b.iter().rev().fold(0usize, |a, &x| a << 8 | usize::from(x)))
    };
    match bytes.get(6)? {
        1 => Some(10 + le(8, 2)?),
        _ => Some(12 + le(8, 4)?),
    }
}

/// The shape of one sample of an NPY array of `shape`: n×D, n×H×W or n×1×H×W.
fn sample_shape(path: &Path, shape: &[usize]) -> Result<Vec<usize>> {
    match shape {
        [_, d] => Ok(vec![*d]),
        [_, h, w] => Ok(vec![*h, *w]),
        [_, 1, h, w] => Ok(vec![*h, *w]),
        [_, c, _, _] => Err(Error::data(path, format!("NPY shape {shape:?}: images with {c} channels are not supported (one channel: n×1×H×W or n×H×W)"))),
        _ => Err(Error::data(
            path,
            format!("NPY shape {shape:?} is not supported: data must be n×D, n×H×W or n×1×H×W (is this a labels file?)"),
        )),
    }
}

/// An NPY file of samples read a block of samples at a time, for data larger than memory:
/// the header is checked as [`load`](super::load) checks it (the file's size must be what it
/// claims) before anything is read, and each block is converted to f32 and checked finite.
/// C order only (a Fortran-ordered file is not stored sample by sample).
pub struct NpyStream {
    path: std::path::PathBuf,
    file: std::io::BufReader<std::fs::File>,
    /// Number of samples.
    pub n: usize,
    /// Shape of one sample.
    pub shape: Vec<usize>,
    /// The stored element type.
    pub dtype: SourceDtype,
    item: usize,
    read: usize,
    bytes: Vec<u8>,
}

impl NpyStream {
    /// Opens `path`; `Ok(None)` when the array is Fortran-ordered (read it whole with `load`).
    pub fn open(path: &Path) -> Result<Option<Self>> {
        use std::io::{Read, Seek, SeekFrom};
        let cannot = |e| super::cannot_read(path, e);
        let mut file = std::fs::File::open(path).map_err(cannot)?;
        let file_len = file.metadata().map_err(cannot)?.len() as usize;
        // the header is at most 64 KiB here (open_prefix refuses longer ones)
        let mut prefix = Vec::new();
        (&mut file)
            .take((1 << 16) + 16)
            .read_to_end(&mut prefix)
            .map_err(cannot)?;
        let npy = open_prefix(path, &prefix, file_len)?;
        let (tc, size) = type_of(path, &npy)?;
        let dtype = match (tc, size) {
            (TypeChar::Uint, 1) => SourceDtype::U8,
            (TypeChar::Float, 4) => SourceDtype::F32,
            (TypeChar::Float, 8) => SourceDtype::F64,
            _ => {
                return Err(Error::data(
                    path,
                    format!(
                        "NPY dtype {} is not supported (use u8, f32 or f64)",
                        npy.dtype().descr()
                    ),
                ))
            }
        };
        let big_endian =
            matches!(npy.dtype(), DType::Plain(ts) if ts.endianness() == npyz::Endianness::Big);
        if npy.order() == Order::Fortran || (big_endian && size > 1) {
            return Ok(None);
        }
        let shape: Vec<usize> = npy.shape().iter().map(|&s| s as usize).collect();
        let sample = sample_shape(path, &shape)?;
        let start = header_span(&prefix).expect("checked").end as u64;
        if shape[0] == 0 || sample.iter().product::<usize>() == 0 {
            return Err(Error::data(path, "holds no samples (the data is empty)"));
        }
        file.seek(SeekFrom::Start(start)).map_err(cannot)?;
        Ok(Some(Self {
            path: path.to_path_buf(),
            file: std::io::BufReader::with_capacity(1 << 20, file),
            n: shape[0],
            shape: sample,
            dtype,
            item: size as usize,
            read: 0,
            bytes: Vec::new(),
        }))
    }

    /// Values per sample.
    pub fn dim(&self) -> usize {
        self.shape.iter().product()
    }

    /// Samples read so far.
    pub fn position(&self) -> usize {
        self.read
    }

    /// The next block of at most `rows` samples, as f32 values in `out` (replaced); `Ok(0)`
    /// at the end. A file that ends early (truncated meanwhile) or holds a non-finite value is
    /// an error naming the sample.
    pub fn next_block(&mut self, rows: usize, out: &mut Vec<f32>) -> Result<usize> {
        use std::io::Read;
        let rows = rows.min(self.n - self.read);
        out.clear();
        if rows == 0 {
            return Ok(0);
        }
        let dim = self.dim();
        self.bytes.resize(rows * dim * self.item, 0);
        self.file.read_exact(&mut self.bytes).map_err(|e| {
            Error::data(
                &self.path,
                format!(
                    "NPY data ends early, within samples {}–{} of the {} its header declares: {e}",
                    self.read,
                    self.read + rows - 1,
                    self.n
                ),
            )
        })?;
        super::decode_block(
            (self.dtype, super::ByteOrder::Little),
            &self.bytes,
            (dim, self.read),
            &self.path,
            out,
        )?;
        self.read += rows;
        Ok(rows)
    }
}

/// A Fortran-ordered (first index fastest) array of `shape` in C order (last index fastest).
fn fortran_to_c<T: Copy + Default>(values: &[T], shape: &[usize]) -> Vec<T> {
    let mut out = vec![T::default(); values.len()];
    let mut index = vec![0usize; shape.len()];
    for (c_pos, slot) in out.iter_mut().enumerate() {
        // the C position's multi-index, then its Fortran position
        let mut rest = c_pos;
        for k in (0..shape.len()).rev() {
            index[k] = rest % shape[k];
            rest /= shape[k];
        }
        let mut f_pos = 0;
        for k in (0..shape.len()).rev() {
            f_pos = f_pos * shape[k] + index[k];
        }
        *slot = values[f_pos];
    }
    out
}

pub(super) fn load_labels(path: &Path) -> Result<Vec<i64>> {
    let bytes = read_file(path)?;
    let npy = open(path, &bytes)?;
    let (tc, size) = type_of(path, &npy)?;
    let shape: Vec<u64> = npy.shape().to_vec();
    if !(shape.len() == 1 || (shape.len() == 2 && shape[1] == 1)) {
        return Err(Error::data(
            path,
            format!("labels must have shape n or n×1, this NPY array has shape {shape:?}"),
        ));
    }
    let t = truncated(path);
    let values: Vec<f64> = match (tc, size) {
        (TypeChar::Uint, 1) => npy
            .into_vec::<u8>()
            .map_err(t)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Uint, 2) => npy
            .into_vec::<u16>()
            .map_err(t)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Uint, 4) => npy
            .into_vec::<u32>()
            .map_err(t)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Int, 1) => npy
            .into_vec::<i8>()
            .map_err(t)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Int, 2) => npy
            .into_vec::<i16>()
            .map_err(t)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Int, 4) => npy
            .into_vec::<i32>()
            .map_err(t)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Int, 8) => npy
            .into_vec::<i64>()
            .map_err(t)?
            .into_iter()
            .map(|v| v as f64)
            .collect(),
        (TypeChar::Float, 4) => npy
            .into_vec::<f32>()
            .map_err(t)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Float, 8) => npy.into_vec::<f64>().map_err(t)?,
        _ => {
            let descr = npy.dtype().descr();
            return Err(Error::data(
                path,
                format!("NPY dtype {descr} is not supported for labels (use an integer type)"),
            ));
        }
    };
    super::whole_labels(path, &values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_npy<T: npyz::Serialize + npyz::AutoSerialize + Copy>(
        path: &Path,
        shape: &[u64],
        data: &[T],
    ) {
        let mut buf = Vec::new();
        use npyz::WriterBuilder;
        let mut w = npyz::WriteOptions::<T>::new()
            .default_dtype()
            .shape(shape)
            .writer(&mut buf)
            .begin_nd()
            .unwrap();
        w.extend(data.iter().copied()).unwrap();
        w.finish().unwrap();
        std::fs::write(path, buf).unwrap();
    }

    #[test]
    fn reads_u8_f32_f64_in_all_supported_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.npy");
        write_npy::<u8>(&p, &[2, 2, 2], &[0, 1, 2, 3, 4, 5, 6, 255]);
        let d = load_data(&p).unwrap();
        assert_eq!(
            (d.n, d.shape.clone(), d.dtype),
            (2, vec![2, 2], SourceDtype::U8)
        );
        assert_eq!(*d.row(1), [4.0, 5.0, 6.0, 255.0]);
        write_npy::<f32>(&p, &[2, 1, 1, 2], &[0.5, 1.0, 1.5, 2.0]);
        let d = load_data(&p).unwrap();
        assert_eq!((d.shape.clone(), d.dtype), (vec![1, 2], SourceDtype::F32));
        write_npy::<f64>(&p, &[3, 1], &[1.0, 2.0, 3.0]);
        let d = load_data(&p).unwrap();
        assert_eq!(
            (d.n, d.shape.clone(), d.values().to_vec()),
            (3, vec![1], vec![1.0, 2.0, 3.0])
        );
    }

    #[test]
    fn rejects_unsupported_dtypes_shapes_truncation_and_nan() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.npy");
        write_npy::<i64>(&p, &[2, 2], &[1, 2, 3, 4]);
        let e = load_data(&p).unwrap_err().to_string();
        assert!(e.contains("bad.npy") && e.contains("not supported"), "{e}");
        write_npy::<f32>(&p, &[4], &[1.0, 2.0, 3.0, 4.0]);
        assert!(load_data(&p)
            .unwrap_err()
            .to_string()
            .contains("labels file"));
        write_npy::<f32>(&p, &[1, 3, 2, 2], &[0.0; 12]);
        assert!(load_data(&p)
            .unwrap_err()
            .to_string()
            .contains("3 channels"));
        write_npy::<f32>(&p, &[2, 2], &[1.0, f32::NAN, 3.0, 4.0]);
        let e = load_data(&p).unwrap_err().to_string();
        assert!(e.contains("NaN") && e.contains("sample 0"), "{e}");
        write_npy::<f32>(&p, &[2, 2], &[1.0, 2.0, f32::INFINITY, 4.0]);
        assert!(load_data(&p).unwrap_err().to_string().contains("infinite"));
        write_npy::<f32>(&p, &[0, 2], &[]);
        assert!(load_data(&p).unwrap_err().to_string().contains("empty"));
        write_npy::<f32>(&p, &[8, 2], &[1.0; 16]);
        let b = std::fs::read(&p).unwrap();
        std::fs::write(&p, &b[..b.len() - 10]).unwrap();
        assert!(load_data(&p).unwrap_err().to_string().contains("truncated"));
        std::fs::write(&p, b"hello").unwrap();
        assert!(load_data(&p)
            .unwrap_err()
            .to_string()
            .contains("not a valid NPY"));
    }

    #[test]
    fn reads_integer_and_float_labels() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.npy");
        write_npy::<i64>(&p, &[3], &[4, 9, 4]);
        assert_eq!(load_labels(&p).unwrap(), vec![4, 9, 4]);
        write_npy::<f32>(&p, &[2, 1], &[1.0, 2.0]);
        assert_eq!(load_labels(&p).unwrap(), vec![1, 2]);
        write_npy::<f32>(&p, &[2], &[1.5, 2.0]);
        assert!(load_labels(&p)
            .unwrap_err()
            .to_string()
            .contains("not a whole number"));
    }

    /// An NPY v1.0 file with this header dictionary (written by hand, as numpy would).
    fn raw_npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let f = if fortran { "True" } else { "False" };
        let mut h = format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}");
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut v = b"\x93NUMPY\x01\x00".to_vec();
        v.extend_from_slice(&(h.len() as u16).to_le_bytes());
        v.extend_from_slice(h.as_bytes());
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn reads_fortran_ordered_and_big_endian_arrays_as_they_are() {
        let dir = tempfile::tempdir().unwrap();
        // C order: sample i, row r, column c holds 100 i + 10 r + c (2 × 2 × 3)
        let c_values: Vec<f32> = (0..2)
            .flat_map(|i| {
                (0..2).flat_map(move |r| (0..3).map(move |c| (100 * i + 10 * r + c) as f32))
            })
            .collect();
        // the same array in Fortran order: the first index fastest
        let mut fortran = Vec::new();
        for c in 0..3 {
            for r in 0..2 {
                for i in 0..2 {
                    fortran.extend_from_slice(&((100 * i + 10 * r + c) as f32).to_le_bytes());
                }
            }
        }
        let p = dir.path().join("f.npy");
        std::fs::write(&p, raw_npy("<f4", true, "(2, 2, 3)", &fortran)).unwrap();
        let d = load_data(&p).unwrap();
        assert_eq!((d.n, d.shape.clone()), (2, vec![2, 3]));
        assert_eq!(d.values(), c_values);
        // big-endian f4, C order
        let big: Vec<u8> = c_values.iter().flat_map(|v| v.to_be_bytes()).collect();
        let p = dir.path().join("b.npy");
        std::fs::write(&p, raw_npy(">f4", false, "(2, 2, 3)", &big)).unwrap();
        assert_eq!(load_data(&p).unwrap().values(), c_values);
        // and a Fortran-ordered n × D matrix
        let p = dir.path().join("f2.npy");
        let m: Vec<u8> = [1f32, 3.0, 5.0, 2.0, 4.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        std::fs::write(&p, raw_npy("<f4", true, "(3, 2)", &m)).unwrap();
        assert_eq!(
            load_data(&p).unwrap().values(),
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
    }

    /// Found by fuzzing (`fuzz/`, target npy): a version-3 header whose 4-byte length claims
    /// 2.4 GB made npyz allocate it before reading.
    #[test]
    fn a_header_length_beyond_the_file_is_an_error_before_allocation() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.npy");
        let mut b = b"\x93NUMPY\x03\x00".to_vec();
        b.extend_from_slice(&0x9300_0076u32.to_le_bytes());
        b.extend_from_slice(b"{'descr': '<i8', ");
        std::fs::write(&p, &b).unwrap();
        let e = load_data(&p).unwrap_err().to_string();
        assert!(
            e.contains("h.npy") && e.contains("header claims more bytes"),
            "{e}"
        );
    }

    /// Found by fuzzing (target npy): a header of nested braces kept npyz's parser busy for
    /// more than 12 s.
    #[test]
    fn a_header_of_nested_brackets_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("n.npy");
        let mut b = b"\x93NUMPY\x01\x00v\x00{'descr': '<i8', 'fortran_order':".to_vec();
        b.extend_from_slice(&[b' '; 26]);
        b.extend_from_slice(&[b'{'; 35]);
        b.extend_from_slice(b"\\");
        b.extend_from_slice(&[b'{'; 18]);
        b.push(b'3');
        b.extend_from_slice(&[0; 11]);
        assert_eq!(b.len(), 135);
        std::fs::write(&p, &b).unwrap();
        let e = load_data(&p).unwrap_err().to_string();
        assert!(
            e.contains("n.npy") && e.contains("not one flat dictionary"),
            "{e}"
        );
    }

    /// Streams the file in blocks of `rows` and gathers them.
    fn streamed(p: &Path, rows: usize) -> Result<(Vec<f32>, NpyStream)> {
        let mut s = NpyStream::open(p)?.expect("C order");
        let (mut all, mut block) = (Vec::new(), Vec::new());
        while s.next_block(rows, &mut block)? > 0 {
            all.extend_from_slice(&block);
        }
        Ok((all, s))
    }

    #[test]
    fn streaming_reads_what_loading_reads_block_by_block() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.npy");
        let bytes: Vec<u8> = (0..7 * 3 * 4).map(|i| (i * 37 % 256) as u8).collect();
        write_npy::<u8>(&p, &[7, 1, 3, 4], &bytes);
        let whole = load_data(&p).unwrap();
        for rows in [1, 2, 3, 7, 100] {
            let (all, s) = streamed(&p, rows).unwrap();
            assert_eq!(all, whole.values().to_vec(), "blocks of {rows}");
            assert_eq!(
                (s.n, s.shape.clone(), s.dtype),
                (7, vec![3, 4], SourceDtype::U8)
            );
            assert_eq!(s.position(), 7);
        }
        let f: Vec<f64> = (0..10).map(|i| i as f64 * 0.25).collect();
        write_npy::<f64>(&p, &[5, 2], &f);
        assert_eq!(
            streamed(&p, 2).unwrap().0,
            load_data(&p).unwrap().values().to_vec()
        );
        // a Fortran-ordered array is not stored sample by sample: read it whole instead
        let mut buf = Vec::new();
        {
            use npyz::WriterBuilder;
            let mut w = npyz::WriteOptions::<f32>::new()
                .default_dtype()
                .order(Order::Fortran)
                .shape(&[2, 3])
                .writer(&mut buf)
                .begin_nd()
                .unwrap();
            w.extend([1f32, 2., 3., 4., 5., 6.]).unwrap();
            w.finish().unwrap();
        }
        std::fs::write(&p, buf).unwrap();
        assert!(NpyStream::open(&p).unwrap().is_none());
    }

    #[test]
    fn streaming_refuses_bad_files_naming_the_sample() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.npy");
        let mut v: Vec<f32> = (0..40).map(|i| i as f32).collect();
        v[33] = f32::NAN;
        write_npy::<f32>(&p, &[10, 4], &v);
        let e = streamed(&p, 3).err().unwrap().to_string();
        assert!(
            e.ends_with("a.npy: sample 8 (0-based), feature 1 holds NaN: the data must be finite"),
            "{e}"
        );
        // truncated before it is opened: refused by the header check, before any block
        let full = std::fs::read(&p).unwrap();
        std::fs::write(&p, &full[..full.len() - 6]).unwrap();
        let e = NpyStream::open(&p).err().unwrap().to_string();
        assert!(e.contains("NPY data truncated"), "{e}");
        // truncated while it is read (the file shrinks after it was opened; larger than the
        // reader's buffer)
        let big: Vec<f32> = (0..400_000).map(|i| i as f32).collect();
        write_npy::<f32>(&p, &[100_000, 4], &big);
        let mut s = NpyStream::open(&p).unwrap().unwrap();
        let mut block = Vec::new();
        assert_eq!(s.next_block(10_000, &mut block).unwrap(), 10_000);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(1_000_000)
            .unwrap();
        let e = loop {
            match s.next_block(10_000, &mut block) {
                Ok(0) => panic!("read to the end of a truncated file"),
                Ok(_) => {}
                Err(e) => break e.to_string(),
            }
        };
        assert!(
            e.contains(
                "NPY data ends early, within samples 60000–69999 of the 100000 its header declares"
            ),
            "{e}"
        );
        let e = NpyStream::open(&dir.path().join("nope.npy"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.ends_with("nope.npy: cannot read: no such file"), "{e}");
    }
}
