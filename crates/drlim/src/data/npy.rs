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
    let data_len = bytes.len() - header.expect("npyz parsed the header").end;
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
    let sample_shape = match shape.as_slice() {
        [_, d] => vec![*d],
        [_, h, w] => vec![*h, *w],
        [_, 1, h, w] => vec![*h, *w],
        [_, c, _, _] => {
            return Err(Error::data(path, format!("NPY shape {shape:?}: images with {c} channels are not supported (one channel: n×1×H×W or n×H×W)")))
        }
        _ => {
            return Err(Error::data(
                path,
                format!("NPY shape {shape:?} is not supported: data must be n×D, n×H×W or n×1×H×W (is this a labels file?)"),
            ))
        }
    };
    let (dtype, mut values) = match (tc, size) {
        (TypeChar::Uint, 1) => (
            SourceDtype::U8,
            npy.into_vec::<u8>()
                .map_err(truncated(path))?
                .into_iter()
                .map(f32::from)
                .collect::<Vec<_>>(),
        ),
        (TypeChar::Float, 4) => (
            SourceDtype::F32,
            npy.into_vec::<f32>().map_err(truncated(path))?,
        ),
        (TypeChar::Float, 8) => (
            SourceDtype::F64,
            npy.into_vec::<f64>()
                .map_err(truncated(path))?
                .into_iter()
                .map(|v| v as f32)
                .collect(),
        ),
        _ => {
            let descr = npy.dtype().descr();
            return Err(Error::data(
                path,
                format!("NPY dtype {descr} is not supported (use u8, f32 or f64)"),
            ));
        }
    };
    if fortran {
        values = fortran_to_c(&values, &shape);
    }
    Dataset::new(path, values, shape[0], sample_shape, dtype)
}

/// A Fortran-ordered (first index fastest) array of `shape` in C order (last index fastest).
fn fortran_to_c(values: &[f32], shape: &[usize]) -> Vec<f32> {
    let mut out = vec![0f32; values.len()];
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
        assert_eq!(d.row(1), &[4.0, 5.0, 6.0, 255.0]);
        write_npy::<f32>(&p, &[2, 1, 1, 2], &[0.5, 1.0, 1.5, 2.0]);
        let d = load_data(&p).unwrap();
        assert_eq!((d.shape.clone(), d.dtype), (vec![1, 2], SourceDtype::F32));
        write_npy::<f64>(&p, &[3, 1], &[1.0, 2.0, 3.0]);
        let d = load_data(&p).unwrap();
        assert_eq!(
            (d.n, d.shape.clone(), d.values.clone()),
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
        assert_eq!(d.values, c_values);
        // big-endian f4, C order
        let big: Vec<u8> = c_values.iter().flat_map(|v| v.to_be_bytes()).collect();
        let p = dir.path().join("b.npy");
        std::fs::write(&p, raw_npy(">f4", false, "(2, 2, 3)", &big)).unwrap();
        assert_eq!(load_data(&p).unwrap().values, c_values);
        // and a Fortran-ordered n × D matrix
        let p = dir.path().join("f2.npy");
        let m: Vec<u8> = [1f32, 3.0, 5.0, 2.0, 4.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        std::fs::write(&p, raw_npy("<f4", true, "(3, 2)", &m)).unwrap();
        assert_eq!(
            load_data(&p).unwrap().values,
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
}
