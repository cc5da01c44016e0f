//! MNIST IDX files (LeCun's format), gzipped or raw.
//!
//! Header: two zero bytes, a type code (0x08 = u8, 0x0D = f32, 0x0E = f64 here), the number of
//! dimensions, then one big-endian u32 per dimension; then the data, big-endian.

use std::io::Read;
use std::path::Path;

use super::{read_file, Dataset, SourceDtype};
use crate::error::{Error, Result};

struct Idx {
    dtype: SourceDtype,
    dims: Vec<usize>,
    values: Vec<f32>,
}

pub(super) fn load_data(path: &Path) -> Result<Dataset> {
    data_from_bytes(path, &read_file(path)?)
}

pub(super) fn load_labels(path: &Path) -> Result<Vec<i64>> {
    labels_from_bytes(path, &read_file(path)?)
}

pub(super) fn data_from_bytes(path: &Path, bytes: &[u8]) -> Result<Dataset> {
    let idx = parse(path, bytes)?;
    if idx.dims.len() < 2 {
        return Err(Error::data(
            path,
            format!("an IDX data file needs at least 2 dimensions (n × features), this one has {} (is it a labels file?)", idx.dims.len()),
        ));
    }
    Dataset::new(
        path,
        idx.values,
        idx.dims[0],
        idx.dims[1..].to_vec(),
        idx.dtype,
    )
}

pub(super) fn labels_from_bytes(path: &Path, bytes: &[u8]) -> Result<Vec<i64>> {
    let idx = parse(path, bytes)?;
    if idx.dims.len() != 1 {
        return Err(Error::data(
            path,
            format!(
                "an IDX labels file has 1 dimension, this one has {} (is it an images file?)",
                idx.dims.len()
            ),
        ));
    }
    let as_f64: Vec<f64> = idx.values.iter().map(|&v| v as f64).collect();
    super::whole_labels(path, &as_f64)
}

fn gunzip_if_needed(path: &Path, bytes: &[u8]) -> Result<Vec<u8>> {
    if !(bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
        return Ok(bytes.to_vec());
    }
    // Inflate the header first, then at most the data it claims (plus one byte, so that a
    // longer stream is reported as such): a stream that inflates beyond its header's claim
    // (a "zip bomb") is never held in memory.
    let corrupt =
        |e: std::io::Error| Error::data(path, format!("corrupt or truncated gzip stream: {e}"));
    let mut gz = flate2::read::GzDecoder::new(bytes);
    let mut out = Vec::new();
    (&mut gz).take(4).read_to_end(&mut out).map_err(corrupt)?;
    if out.len() == 4 {
        (&mut gz)
            .take(4 * out[3] as u64)
            .read_to_end(&mut out)
            .map_err(corrupt)?;
    }
    let limit = match claimed_data_bytes(&out) {
        Some(n) => n.saturating_add(1),
        None => 0, // parse() reports what is wrong with the header
    };
    (&mut gz)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(corrupt)?;
    Ok(out)
}

/// The data bytes that a complete IDX header (`header`: magic and dimensions) claims, if it is
/// one of the supported types and its size can be represented.
fn claimed_data_bytes(header: &[u8]) -> Option<u64> {
    let width: u64 = match *header.get(2)? {
        0x08 => 1,
        0x0D => 4,
        0x0E => 8,
        _ => return None,
    };
    let ndim = *header.get(3)? as usize;
    if header.len() != 4 + 4 * ndim {
        return None;
    }
    header[4..].chunks_exact(4).try_fold(width, |a, d| {
        a.checked_mul(u32::from_be_bytes(d.try_into().unwrap()) as u64)
    })
}

fn parse(path: &Path, raw: &[u8]) -> Result<Idx> {
    let bytes = gunzip_if_needed(path, raw)?;
    if bytes.len() < 4 {
        return Err(Error::data(
            path,
            "too short to be an IDX file (no 4-byte magic number)",
        ));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(Error::data(
            path,
            format!(
                "not an IDX file: bad magic number 0x{:02x}{:02x}{:02x}{:02x} (expected 0x0000TTNN; use .npy or .csv names for those formats)",
                bytes[0], bytes[1], bytes[2], bytes[3]
            ),
        ));
    }
    let (dtype, width) = match bytes[2] {
        0x08 => (SourceDtype::U8, 1),
        0x0D => (SourceDtype::F32, 4),
        0x0E => (SourceDtype::F64, 8),
        t => {
            return Err(Error::data(
                path,
                format!(
                "IDX element type 0x{t:02x} is not supported (u8 0x08, f32 0x0D and f64 0x0E are)"
            ),
            ))
        }
    };
    let ndim = bytes[3] as usize;
    if ndim == 0 {
        return Err(Error::data(path, "IDX header declares 0 dimensions"));
    }
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(Error::data(path, "truncated IDX header"));
    }
    let dims: Vec<usize> = (0..ndim)
        .map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize)
        .collect();
    let count = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let count =
        count.ok_or_else(|| Error::data(path, format!("IDX dimensions {dims:?} overflow")))?;
    let body = &bytes[header..];
    let expected = count.saturating_mul(width);
    if body.len() != expected {
        let found = if body.len() < expected {
            format!(
                "truncated: dimensions {dims:?} need {expected} bytes after the header, found {}",
                body.len()
            )
        } else {
            // a gzip stream is inflated no further than this
            format!("has trailing bytes: dimensions {dims:?} need {expected} bytes after the header, the file holds more")
        };
        return Err(Error::data(path, format!("IDX data {found}")));
    }
    let values: Vec<f32> = match dtype {
        SourceDtype::U8 => body.iter().map(|&b| b as f32).collect(),
        SourceDtype::F32 => body
            .chunks_exact(4)
            .map(|c| f32::from_be_bytes(c.try_into().unwrap()))
            .collect(),
        SourceDtype::F64 => body
            .chunks_exact(8)
            .map(|c| f64::from_be_bytes(c.try_into().unwrap()) as f32)
            .collect(),
    };
    Ok(Idx {
        dtype,
        dims,
        values,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// Raw IDX bytes for u8 data of the given dimensions.
    pub(crate) fn idx_u8(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 0x08, dims.len() as u8];
        for d in dims {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v.extend_from_slice(data);
        v
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reads_raw_and_gzipped_images_and_labels() {
        let raw = idx_u8(&[2, 2, 3], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]);
        for bytes in [raw.clone(), gz(&raw)] {
            let d = data_from_bytes(Path::new("x"), &bytes).unwrap();
            assert_eq!(
                (d.n, d.shape.clone(), d.dtype),
                (2, vec![2, 3], SourceDtype::U8)
            );
            assert_eq!(d.row(1), &[6.0, 7.0, 8.0, 9.0, 10.0, 255.0]);
        }
        let labels = labels_from_bytes(Path::new("l"), &gz(&idx_u8(&[3], &[4, 9, 4]))).unwrap();
        assert_eq!(labels, vec![4, 9, 4]);
    }

    #[test]
    fn rejects_bad_magic_truncation_and_corrupt_gzip() {
        let p = Path::new("images.idx");
        let raw = idx_u8(&[2, 2, 2], &[1; 8]);
        let mut bad = raw.clone();
        bad[0] = 7;
        assert!(data_from_bytes(p, &bad)
            .unwrap_err()
            .to_string()
            .contains("bad magic"));
        let mut t = raw.clone();
        t[2] = 0x0B;
        assert!(data_from_bytes(p, &t)
            .unwrap_err()
            .to_string()
            .contains("element type 0x0b"));
        let e = data_from_bytes(p, &raw[..raw.len() - 3])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("images.idx: IDX data truncated"), "{e}");
        let g = gz(&raw);
        let e = data_from_bytes(p, &g[..g.len() / 2])
            .unwrap_err()
            .to_string();
        assert!(e.contains("gzip"), "{e}");
        let mut c = g.clone();
        let mid = c.len() / 2;
        c[mid] ^= 0xff;
        c[mid + 1] ^= 0xff;
        assert!(data_from_bytes(p, &c).is_err());
        assert!(data_from_bytes(p, &idx_u8(&[0, 28, 28], &[]))
            .unwrap_err()
            .to_string()
            .contains("empty"));
        assert!(labels_from_bytes(p, &raw)
            .unwrap_err()
            .to_string()
            .contains("images file"));
    }

    /// Found by fuzzing (`fuzz/`, target idx): zero samples of a sample shape whose size
    /// overflows made `Dataset::new` overflow while multiplying it out.
    #[test]
    fn a_sample_shape_that_overflows_is_an_error() {
        let mut raw = vec![0, 0, 0x08, 4];
        for d in [0u32, u32::MAX, u32::MAX, u32::MAX] {
            raw.extend_from_slice(&d.to_be_bytes());
        }
        let e = data_from_bytes(Path::new("z.idx"), &raw)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("z.idx: ") && e.contains("overflows"), "{e}");
    }
}
