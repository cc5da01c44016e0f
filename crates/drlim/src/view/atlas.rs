//! Thumbnails for the hover card: each image shrunk to at most [`MAX_SIDE`] pixels a side (by
//! averaging blocks), scaled to 0–255 over the whole set, and tiled into grey PNG atlases of at
//! most [`PER_ROW`]² thumbnails each, which the page decodes only when a point is hovered.

use serde_json::{json, Value};

use crate::error::{Error, Result};

/// Longest side of a thumbnail in pixels (larger images are averaged down by a whole factor).
pub const MAX_SIDE: usize = 32;
/// Thumbnails per atlas row and column (an atlas is at most 256·32 = 8,192 pixels a side).
pub const PER_ROW: usize = 256;

/// Grey images to show on hover: `n` images of `height × width` values, row-major.
#[derive(Clone, Debug)]
pub struct Images<'a> {
    /// The pixel values, image after image (any range: scaled to 0–255 over all of them).
    pub pixels: std::borrow::Cow<'a, [f32]>,
    /// Rows per image.
    pub height: usize,
    /// Columns per image.
    pub width: usize,
}

/// The atlases of the thumbnails of every `stride`-th image (0, stride, 2·stride, …): the
/// manifest entry and one PNG per atlas.
pub(super) fn atlases(images: &Images, n: usize, stride: usize) -> Result<(Value, Vec<Vec<u8>>)> {
    let (h, w) = (images.height, images.width);
    let f = h.max(w).div_ceil(MAX_SIDE).max(1);
    let (th, tw) = (h / f, w / f);
    let chosen: Vec<usize> = (0..n).step_by(stride).collect();
    let (lo, hi) = range(images, &chosen);
    let per_row = PER_ROW
        .min((chosen.len() as f64).sqrt().ceil() as usize)
        .max(1);
    let per_atlas = per_row * per_row;
    let mut pngs = vec![];
    for group in chosen.chunks(per_atlas) {
        let rows = group.len().div_ceil(per_row);
        let (aw, ah) = (per_row * tw, rows * th);
        let mut grey = vec![0u8; aw * ah];
        for (k, &i) in group.iter().enumerate() {
            let (ox, oy) = ((k % per_row) * tw, (k / per_row) * th);
            let img = &images.pixels[i * h * w..(i + 1) * h * w];
            for y in 0..th {
                for x in 0..tw {
                    let v = block_mean(img, w, x * f, y * f, f);
                    let t = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
                    grey[(oy + y) * aw + ox + x] = (t * 255.0).round() as u8;
                }
            }
        }
        pngs.push(encode_png(&grey, aw, ah)?);
    }
    let entry = json!({"width": tw, "height": th, "per_row": per_row, "per_atlas": per_atlas,
        "stride": stride, "count": chosen.len()});
    Ok((entry, pngs))
}

fn block_mean(img: &[f32], w: usize, x0: usize, y0: usize, f: usize) -> f32 {
    let mut s = 0.0;
    for y in y0..y0 + f {
        s += img[y * w + x0..y * w + x0 + f].iter().sum::<f32>();
    }
    s / (f * f) as f32
}

/// The smallest and largest pixel of the chosen images ((0, 1) if they are all equal).
fn range(images: &Images, chosen: &[usize]) -> (f32, f32) {
    let size = images.height * images.width;
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for &i in chosen {
        for &v in &images.pixels[i * size..(i + 1) * size] {
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    if hi > lo {
        (lo, hi)
    } else {
        (0.0, 1.0)
    }
}

fn encode_png(grey: &[u8], width: usize, height: usize) -> Result<Vec<u8>> {
    let mut out = vec![];
    let mut enc = png::Encoder::new(&mut out, width as u32, height as u32);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Best);
    let fail = |e: png::EncodingError| Error::param(format!("encoding the thumbnails: {e}"));
    let mut writer = enc.write_header().map_err(fail)?;
    writer.write_image_data(grey).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinks_large_images_and_tiles_every_strideth() {
        // 5 images of 64×40, image i filled with the value i: shrunk by 2 to 32×20
        let (h, w) = (64, 40);
        let pixels: Vec<f32> = (0..5).flat_map(|i| vec![i as f32; h * w]).collect();
        let images = Images {
            pixels: (&pixels[..]).into(),
            height: h,
            width: w,
        };
        let (entry, pngs) = atlases(&images, 5, 2).unwrap();
        assert_eq!(entry["width"], 20);
        assert_eq!(entry["height"], 32);
        assert_eq!(entry["count"], 3, "images 0, 2 and 4");
        assert_eq!(entry["per_row"], 2);
        assert_eq!(pngs.len(), 1);
        let decoder = png::Decoder::new(std::io::Cursor::new(&pngs[0]));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (40, 64));
        // tiles: image 0 (black) at the top left, image 2 (mid grey) beside it, image 4 (white)
        // below
        assert_eq!(buf[0], 0);
        assert_eq!(buf[20], 128);
        assert_eq!(buf[32 * 40], 255);
    }
}
