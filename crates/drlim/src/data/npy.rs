//! NumPy `.npy` files: u8, f32 or f64 data of shape n×D, n×H×W or n×1×H×W; integer or
//! whole-number float labels of shape n or n×1.

use std::path::Path;

use npyz::{DType, NpyFile, Order, TypeChar};

use super::{read_file, Dataset, SourceDtype};
use crate::error::{Error, Result};

fn open<'a>(path: &Path, bytes: &'a [u8]) -> Result<NpyFile<&'a [u8]>> {
    NpyFile::new(bytes).map_err(|e| Error::data(path, format!("not a valid NPY file: {e}")))
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
    if fortran && shape.len() > 2 {
        return Err(Error::data(path, "Fortran-ordered NPY arrays of more than 2 dimensions are not supported (save with np.ascontiguousarray)"));
    }
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
        let (n, d) = (shape[0], shape[1]);
        let mut c = vec![0f32; values.len()];
        for i in 0..n {
            for j in 0..d {
                c[i * d + j] = values[j * n + i];
            }
        }
        values = c;
    }
    Dataset::new(path, values, shape[0], sample_shape, dtype)
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
}
