//! MNIST IDX files (LeCun's format), gzipped or raw.
//!
//! Header: two zero bytes, a type code (0x08 = u8, 0x0D = f32, 0x0E = f64 here), the number of
//! dimensions, then one big-endian u32 per dimension; then the data, big-endian.

use std::io::Read;
use std::path::Path;

use super::{read_file, ByteOrder, Dataset, SourceDtype};
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
    let h = parse_header(Path::new(""), header).ok()?;
    (h.len == header.len())
        .then(|| (h.count as u64).checked_mul(h.width as u64))
        .flatten()
}

/// A checked IDX header: element type, dimensions and where the data starts.
struct Header {
    dtype: SourceDtype,
    /// Bytes per element.
    width: usize,
    dims: Vec<usize>,
    /// Elements the dimensions multiply out to.
    count: usize,
    /// Bytes of the header (magic and dimensions).
    len: usize,
}

impl Header {
    /// The data bytes the header declares (saturating).
    fn data_bytes(&self) -> usize {
        self.count.saturating_mul(self.width)
    }

    /// The error for a file whose data holds `found` bytes, or more than declared (`None`).
    fn wrong_size(&self, path: &Path, found: Option<usize>) -> Error {
        let (dims, expected) = (&self.dims, self.data_bytes());
        let found = match found {
            Some(found) => format!(
                "truncated: dimensions {dims:?} need {expected} bytes after the header, found {found}"
            ),
            // a gzip stream is inflated no further than this
            None => format!("has trailing bytes: dimensions {dims:?} need {expected} bytes after the header, the file holds more"),
        };
        Error::data(path, format!("IDX data {found}"))
    }
}

/// Checks the header at the start of `bytes` (which may hold more than the header).
fn parse_header(path: &Path, bytes: &[u8]) -> Result<Header> {
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
    let len = 4 + 4 * ndim;
    if bytes.len() < len {
        return Err(Error::data(path, "truncated IDX header"));
    }
    let dims: Vec<usize> = (0..ndim)
        .map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize)
        .collect();
    let count = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let count =
        count.ok_or_else(|| Error::data(path, format!("IDX dimensions {dims:?} overflow")))?;
    Ok(Header {
        dtype,
        width,
        dims,
        count,
        len,
    })
}

fn parse(path: &Path, raw: &[u8]) -> Result<Idx> {
    let bytes = gunzip_if_needed(path, raw)?;
    let h = parse_header(path, &bytes)?;
    let body = &bytes[h.len..];
    if body.len() != h.data_bytes() {
        let found = (body.len() < h.data_bytes()).then_some(body.len());
        return Err(h.wrong_size(path, found));
    }
    let mut values = Vec::with_capacity(h.count);
    super::decode(h.dtype, ByteOrder::Big, body, &mut values);
    Ok(Idx {
        dtype: h.dtype,
        dims: h.dims,
        values,
    })
}

/// An IDX data file (raw or gzipped) read a block of samples at a time, so that memory does
/// not grow with it; checked as [`load`](super::load) checks the whole file.
pub struct IdxStream {
    path: std::path::PathBuf,
    reader: Box<dyn Read>,
    header: Header,
    /// Number of samples.
    pub n: usize,
    /// Shape of one sample.
    pub shape: Vec<usize>,
    /// The stored element type.
    pub dtype: SourceDtype,
    gzipped: bool,
    read: usize,
    bytes: Vec<u8>,
}

impl IdxStream {
    /// Opens `path` and checks its header (and, for a raw file, its size).
    pub fn open(path: &Path) -> Result<Self> {
        let cannot = |e| super::cannot_read(path, e);
        let mut file = std::fs::File::open(path).map_err(cannot)?;
        let file_len = file.metadata().map_err(cannot)?.len();
        let mut magic = Vec::new();
        (&mut file)
            .take(2)
            .read_to_end(&mut magic)
            .map_err(cannot)?;
        let gzipped = magic == [0x1f, 0x8b];
        let file =
            std::io::Cursor::new(magic).chain(std::io::BufReader::with_capacity(1 << 20, file));
        let mut reader: Box<dyn Read> = if gzipped {
            Box::new(flate2::read::GzDecoder::new(file))
        } else {
            Box::new(file)
        };
        let corrupt = |e: std::io::Error| {
            if gzipped {
                Error::data(path, format!("corrupt or truncated gzip stream: {e}"))
            } else {
                cannot(e)
            }
        };
        let mut head = Vec::new();
        (&mut reader)
            .take(4)
            .read_to_end(&mut head)
            .map_err(corrupt)?;
        if head.len() == 4 {
            (&mut reader)
                .take(4 * head[3] as u64)
                .read_to_end(&mut head)
                .map_err(corrupt)?;
        }
        let header = parse_header(path, &head)?;
        if header.dims.len() < 2 {
            return Err(Error::data(
                path,
                format!("an IDX data file needs at least 2 dimensions (n × features), this one has {} (is it a labels file?)", header.dims.len()),
            ));
        }
        if !gzipped {
            let body = file_len.saturating_sub(header.len as u64);
            if body != header.data_bytes() as u64 {
                let found = (body < header.data_bytes() as u64).then_some(body as usize);
                return Err(header.wrong_size(path, found));
            }
        }
        let (n, shape) = (header.dims[0], header.dims[1..].to_vec());
        if n == 0 || shape.contains(&0) {
            return Err(Error::data(path, "holds no samples (the data is empty)"));
        }
        Ok(Self {
            path: path.to_path_buf(),
            reader,
            dtype: header.dtype,
            header,
            n,
            shape,
            gzipped,
            read: 0,
            bytes: Vec::new(),
        })
    }

    /// Values per sample.
    pub fn dim(&self) -> usize {
        self.shape.iter().product()
    }

    /// The next block of at most `rows` samples, as f32 values in `out` (replaced); `Ok(0)`
    /// at the end. Data that ends early, a gzip stream that holds more than the header
    /// declares, or a non-finite value is an error naming the file (and the samples).
    pub fn next_block(&mut self, rows: usize, out: &mut Vec<f32>) -> Result<usize> {
        let rows = rows.min(self.n - self.read);
        out.clear();
        if rows == 0 {
            return Ok(0);
        }
        let dim = self.dim();
        let need = rows.saturating_mul(dim).saturating_mul(self.header.width);
        let (path, first, n, gz) = (&self.path, self.read, self.n, self.gzipped);
        let ends_early = |why: String| {
            let what = if gz {
                "the gzip stream is corrupt or"
            } else {
                "the file was"
            };
            Error::data(
                path,
                format!(
                    "IDX data ends early, within samples {first}–{} of the {n} its header declares ({what} truncated): {why}",
                    first + rows - 1
                ),
            )
        };
        // grown as the bytes arrive, so that a gzipped header claiming more than its stream
        // holds never allocates the claim
        self.bytes.clear();
        (&mut self.reader)
            .take(need as u64)
            .read_to_end(&mut self.bytes)
            .map_err(|e| ends_early(e.to_string()))?;
        if self.bytes.len() < need {
            return Err(ends_early(format!(
                "{} of the block's {need} bytes read",
                self.bytes.len()
            )));
        }
        super::decode_block(
            (self.dtype, ByteOrder::Big),
            &self.bytes,
            (dim, self.read),
            &self.path,
            out,
        )?;
        self.read += rows;
        if self.read == self.n {
            // nothing may follow the declared data
            let mut extra = [0u8; 1];
            let more = self.reader.read(&mut extra).map_err(|e| {
                Error::data(
                    &self.path,
                    format!("corrupt or unreadable after the data: {e}"),
                )
            })?;
            if more > 0 {
                return Err(self.header.wrong_size(&self.path, None));
            }
        }
        Ok(rows)
    }
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
            assert_eq!(*d.row(1), [6.0, 7.0, 8.0, 9.0, 10.0, 255.0]);
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

    /// Every block of `path` streamed `rows` samples at a time, and the stream.
    fn streamed(path: &Path, rows: usize) -> Result<(Vec<f32>, IdxStream)> {
        let mut s = IdxStream::open(path)?;
        let (mut all, mut block) = (Vec::new(), Vec::new());
        while s.next_block(rows, &mut block)? > 0 {
            all.extend_from_slice(&block);
        }
        Ok((all, s))
    }

    /// Raw IDX bytes for big-endian f32 data of the given dimensions.
    fn idx_f32(dims: &[u32], data: &[f32]) -> Vec<u8> {
        let mut v = vec![0, 0, 0x0D, dims.len() as u8];
        for d in dims {
            v.extend_from_slice(&d.to_be_bytes());
        }
        for x in data {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v
    }

    #[test]
    fn streaming_reads_what_loading_reads_block_by_block() {
        let dir = tempfile::tempdir().unwrap();
        let pixels: Vec<u8> = (0..7 * 2 * 3).map(|i| (i * 37 % 256) as u8).collect();
        let floats: Vec<f32> = (0..5 * 4).map(|i| i as f32 * 0.25 - 2.0).collect();
        for (name, bytes) in [
            ("u8.idx", idx_u8(&[7, 2, 3], &pixels)),
            ("u8.idx.gz", gz(&idx_u8(&[7, 2, 3], &pixels))),
            ("f32.idx", idx_f32(&[5, 4], &floats)),
            ("f32.idx.gz", gz(&idx_f32(&[5, 4], &floats))),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, &bytes).unwrap();
            let whole = crate::data::load(&p).unwrap();
            for rows in [1, 3, 100] {
                let (all, s) = streamed(&p, rows).unwrap();
                assert_eq!(all, whole.values().to_vec(), "{name}, blocks of {rows}");
                assert_eq!(
                    (s.n, &s.shape, s.dtype),
                    (whole.n, &whole.shape, whole.dtype)
                );
            }
            // the stream SampleStream opens for a name that is not .npy or .csv
            let s = crate::data::SampleStream::open(&p).unwrap().unwrap();
            assert_eq!((s.n(), s.dim()), (whole.n, whole.values().len() / whole.n));
        }
    }

    #[test]
    fn streaming_refuses_what_loading_refuses_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let raw = idx_u8(&[4, 2, 2], &[9; 16]);
        let err = |bytes: &[u8]| {
            let p = dir.path().join("bad.idx");
            std::fs::write(&p, bytes).unwrap();
            let e = streamed(&p, 3).err().expect("refused").to_string();
            assert!(e.starts_with(&format!("{}: ", p.display())), "{e}");
            e
        };
        // a raw file's size is checked before any block is read, with load's words
        let e = err(&raw[..raw.len() - 3]);
        assert!(e.contains("IDX data truncated"), "{e}");
        let mut long = raw.clone();
        long.push(0);
        assert!(err(&long).contains("trailing bytes"));
        // a gzipped one only as it is read
        let g = gz(&raw);
        let e = err(&g[..g.len() / 2]);
        assert!(e.contains("ends early") || e.contains("gzip"), "{e}");
        let mut longer = raw.clone();
        longer.extend_from_slice(&[1, 2, 3]);
        assert!(err(&gz(&longer)).contains("trailing bytes"));
        // a gzipped header claiming samples of 2^31 × 2^30 bytes is refused as the stream
        // ends, not by allocating the claim
        let mut huge = vec![0, 0, 0x08, 3];
        for x in [2u32, 1 << 31, 1 << 30] {
            huge.extend_from_slice(&x.to_be_bytes());
        }
        huge.extend_from_slice(&[5; 100]);
        assert!(err(&gz(&huge)).contains("ends early"));
        let mut bad = raw.clone();
        bad[0] = 7;
        assert!(err(&bad).contains("bad magic"));
        assert!(err(&idx_u8(&[4], &[1, 2, 3, 4])).contains("labels file"));
        assert!(err(&idx_u8(&[0, 28, 28], &[])).contains("empty"));
        let e = err(&idx_f32(&[3, 2], &[1.0, 2.0, 3.0, f32::NAN, 5.0, 6.0]));
        assert!(e.contains("sample 1"), "{e}");
        let e = IdxStream::open(&dir.path().join("missing.idx"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("no such file"), "{e}");
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
