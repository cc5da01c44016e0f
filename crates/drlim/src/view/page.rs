//! The page: a template with the viewer's script and styles, a JSON manifest and the data as
//! base64 blobs in `<script>` elements; its size budget; the atomic write.

use std::path::Path;

use base64::Engine;
use serde_json::{json, Value};

use super::atlas::atlases;
use super::columns::{pack, share};
use super::{MapLayer, Samples, ViewOptions, MAX_ROW_VALUES};
use crate::error::{Error, Result};

const TEMPLATE: &str = include_str!("assets/page.html");
const SCRIPT: &str = include_str!("assets/viewer.js");
const STYLE: &str = include_str!("assets/viewer.css");

/// Bytes a coordinate takes in the file (an f32 in base64): a 2-D point takes 10.7 bytes, a
/// categorical column 1.3 more per point (up to 256 categories), a numeric column 5.3.
pub const BYTES_PER_COORDINATE: f64 = 16.0 / 3.0;

/// What was written.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewSummary {
    /// The file's size in bytes.
    pub bytes: u64,
    /// Points over all layers.
    pub points: usize,
    /// Points with a thumbnail.
    pub thumbnails: usize,
}

/// Writes the map of `layers` to `path` atomically (nothing is written when a check fails).
pub fn write(path: &Path, layers: &[MapLayer], options: &ViewOptions) -> Result<ViewSummary> {
    let (html, summary) = build(layers, options).map_err(|e| match e {
        Error::Param(msg) => Error::output(path, msg),
        other => other,
    })?;
    crate::output::write_bytes(path, html.as_bytes())?;
    Ok(summary)
}

/// The map of `layers` as one HTML page (for notebooks, or to serve).
pub fn render(layers: &[MapLayer], options: &ViewOptions) -> Result<String> {
    Ok(build(layers, options)?.0)
}

/// The data of a page: blob ids and their base64 text.
#[derive(Default)]
struct Blobs(Vec<(String, String)>);

impl Blobs {
    fn add(&mut self, bytes: &[u8]) -> String {
        let id = format!("blob-{}", self.0.len());
        let text = base64::engine::general_purpose::STANDARD.encode(bytes);
        self.0.push((id.clone(), text));
        id
    }

    fn bytes(&self) -> usize {
        self.0.iter().map(|(id, t)| t.len() + id.len() + 60).sum()
    }
}

fn build(layers: &[MapLayer], options: &ViewOptions) -> Result<(String, ViewSummary)> {
    check(layers)?;
    let shared = share(&layers.iter().map(|l| &l.columns[..]).collect::<Vec<_>>())?;
    let mut blobs = Blobs::default();
    let mut thumbnails = 0;
    let mut entries = vec![];
    for layer in layers {
        let columns: Vec<Value> = layer
            .columns
            .iter()
            .map(|c| {
                let (mut entry, bytes) = pack(c, &shared[&c.name]);
                let key = if entry["kind"] == "categorical" {
                    "codes"
                } else {
                    "values"
                };
                entry[key] = blobs.add(&bytes).into();
                entry
            })
            .collect();
        let coords: Vec<u8> = layer.coords.iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut entry = json!({"name": layer.name, "n": layer.n(), "coords": blobs.add(&coords),
            "columns": columns});
        match &layer.samples {
            Some(Samples::Images(images)) => {
                let stride = layer.n().div_ceil(options.max_thumbnails.max(1));
                let (mut t, pngs) = atlases(images, layer.n(), stride)?;
                thumbnails += t["count"].as_u64().unwrap_or(0) as usize;
                t["atlases"] = pngs.iter().map(|p| blobs.add(p)).collect();
                entry["thumbs"] = t;
            }
            Some(Samples::Rows { values, dim, shown }) => {
                entry["rows"] = rows(&mut blobs, values, *dim, shown)
            }
            None => {}
        }
        entries.push(entry);
    }
    let manifest = json!({"format": "drlim-view 1", "title": options.title, "dim": layers[0].dim,
        "layers": entries});
    let size = (TEMPLATE.len() + SCRIPT.len() + STYLE.len() + blobs.bytes()) as u64;
    if size > options.max_bytes {
        return Err(Error::param(too_large(size, options.max_bytes, thumbnails)));
    }
    let html = fill(&manifest, &blobs, options, thumbnails);
    let summary = ViewSummary {
        bytes: html.len() as u64,
        points: layers.iter().map(|l| l.n()).sum(),
        thumbnails,
    };
    Ok((html, summary))
}

fn check(layers: &[MapLayer]) -> Result<()> {
    let first = layers
        .first()
        .ok_or_else(|| Error::param("a map needs at least one layer of points"))?;
    for layer in layers {
        layer.check()?;
        if layer.dim != first.dim {
            return Err(Error::data(
                &layer.origin,
                format!(
                    "the embedding has {} dimensions, the map's {} has {}",
                    layer.dim, first.name, first.dim
                ),
            ));
        }
    }
    Ok(())
}

/// The chosen values of each row (`shown`; empty: the first [`MAX_ROW_VALUES`]).
fn rows(blobs: &mut Blobs, values: &[f32], dim: usize, shown: &[usize]) -> Value {
    let indices: Vec<usize> = if shown.is_empty() {
        (0..dim.min(MAX_ROW_VALUES)).collect()
    } else {
        shown.to_vec()
    };
    let bytes: Vec<u8> = values
        .chunks(dim)
        .flat_map(|r| indices.iter().flat_map(|&j| r[j].to_le_bytes()))
        .collect();
    json!({"dim": dim, "shown": indices.len(), "indices": indices, "values": blobs.add(&bytes)})
}

fn too_large(size: u64, max: u64, thumbnails: usize) -> String {
    let mb = |b: u64| b as f64 / (1 << 20) as f64;
    let hint = if thumbnails > 0 {
        " or give fewer points a thumbnail (--max-thumbnails, max_thumbnails=)"
    } else {
        ""
    };
    format!(
        "the map would take {:.1} MB, above the limit of {:.0} MB: raise the limit (--max-mb, \
         max_mb=){hint}",
        mb(size),
        mb(max)
    )
}

/// The template with its placeholders filled in one pass (so that a title cannot inject one).
fn fill(manifest: &Value, blobs: &Blobs, options: &ViewOptions, thumbnails: usize) -> String {
    // "</" inside a <script> element would end it early
    let manifest = manifest.to_string().replace("</", "<\\/");
    let mut blob_html = String::with_capacity(blobs.bytes());
    for (id, text) in &blobs.0 {
        blob_html.push_str(&format!(
            "<script type=\"application/octet-stream\" id=\"{id}\">{text}</script>\n"
        ));
    }
    let status = if thumbnails > 0 {
        format!("{thumbnails} thumbnails")
    } else {
        String::new()
    };
    let mut out = String::with_capacity(TEMPLATE.len() + SCRIPT.len() + blob_html.len() + 4096);
    let mut rest = TEMPLATE;
    while let Some(start) = rest.find("{{") {
        let end = start
            + rest[start..]
                .find("}}")
                .expect("the template's braces pair up");
        out.push_str(&rest[..start]);
        match &rest[start + 2..end] {
            "TITLE" => out.push_str(&escape_html(&options.title)),
            "CSS" => out.push_str(STYLE),
            "JS" => out.push_str(SCRIPT),
            "MANIFEST" => out.push_str(&manifest),
            "BLOBS" => out.push_str(&blob_html),
            "STATUS" => out.push_str(&status),
            other => unreachable!("unknown placeholder {other} in the page template"),
        }
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::super::{Column, Images, Samples};
    use super::*;

    fn layer(coords: &[f32]) -> MapLayer<'_> {
        MapLayer::new("training", "map.npy", coords, 2)
    }

    #[test]
    fn a_page_holds_its_script_manifest_and_data() {
        let c = [0.0f32, 0.0, 1.0, 1.0, 2.0, 0.5];
        let l = layer(&c).with_column(Column::labels("digit", &[4, 9, 4]));
        let html = render(&[l], &ViewOptions::titled("a </script> <b>title</b>")).unwrap();
        assert!(html.contains("&lt;/script&gt; &lt;b&gt;title&lt;/b&gt;"));
        assert!(!html.contains("{{"), "every placeholder filled");
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
        let start = html.find("id=\"drlim-manifest\">").unwrap() + 20;
        let end = start + html[start..].find("</script>").unwrap();
        let m: Value = serde_json::from_str(&html[start..end].replace("<\\/", "</")).unwrap();
        assert_eq!(m["title"], "a </script> <b>title</b>");
        assert_eq!(m["layers"][0]["n"], 3);
        assert_eq!(
            m["layers"][0]["columns"][0]["categories"],
            json!(["4", "9"])
        );
        let id = m["layers"][0]["coords"].as_str().unwrap();
        let at = html.find(&format!("id=\"{id}\">")).unwrap() + id.len() + 6;
        let b64 = &html[at..at + html[at..].find('<').unwrap()];
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(bytes.len(), 24);
        assert_eq!(f32::from_le_bytes(bytes[20..24].try_into().unwrap()), 0.5);
    }

    #[test]
    fn bad_maps_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("map.html");
        let o = ViewOptions::titled("t");
        let err = |layers: &[MapLayer]| write(&out, layers, &o).unwrap_err().to_string();
        let c = [0.0f32, 0.0, 1.0, 1.0];
        let nan = [0.0f32, f32::NAN, 1.0, 1.0];
        assert!(err(&[layer(&nan)]).contains("point 0"));
        let five = [0.0f32; 10];
        assert!(err(&[MapLayer::new("t", "e5.npy", &five, 5)]).contains("5 dimensions"));
        let short = layer(&c).with_column(Column::labels("digit", &[1, 2, 3]));
        assert!(err(&[short]).contains("3 values for 2 points"));
        let px = [0.0f32; 15];
        let images = Samples::Images(Images {
            pixels: (&px[..]).into(),
            height: 2,
            width: 4,
        });
        let e = err(&[layer(&c).with_samples(images, "pixels.npy")]);
        assert!(e.contains("pixels.npy") && e.contains("2×4"), "{e}");
        let three = [0.0f32; 6];
        let e = err(&[layer(&c), MapLayer::new("new", "new.npy", &three, 3)]);
        assert!(e.contains("new.npy"), "{e}");
        let tiny = ViewOptions {
            max_bytes: 1000,
            ..o.clone()
        };
        let e = write(&out, &[layer(&c)], &tiny).unwrap_err().to_string();
        assert!(e.contains("map.html") && e.contains("--max-mb"), "{e}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let s = write(&out, &[layer(&c)], &o).unwrap();
        assert_eq!(s.bytes, std::fs::metadata(&out).unwrap().len());
    }

    #[test]
    fn vector_samples_show_the_chosen_values() {
        let c = [0.0f32, 0.0, 1.0, 1.0];
        let v: Vec<f32> = (0..2 * 20).map(|i| i as f32).collect();
        let rows = |shown| Samples::Rows {
            values: (&v[..]).into(),
            dim: 20,
            shown,
        };
        let html = render(
            &[layer(&c).with_samples(rows(&[3, 17]), "v.npy")],
            &ViewOptions::titled("t"),
        )
        .unwrap();
        assert!(html.contains(r#""indices":[3,17]"#), "the chosen values");
        let html = render(
            &[layer(&c).with_samples(rows(&[]), "v.npy")],
            &ViewOptions::titled("t"),
        )
        .unwrap();
        assert!(
            html.contains(r#""indices":[0,1,2,3,4,5,6,7,8,9,10,11]"#),
            "the first 12"
        );
        let e = render(
            &[layer(&c).with_samples(rows(&[20]), "v.npy")],
            &ViewOptions::titled("t"),
        );
        assert!(e.unwrap_err().to_string().contains("v.npy"));
    }

    #[test]
    fn thumbnails_go_to_every_kth_point_past_the_limit() {
        let c: Vec<f32> = (0..20).map(|i| i as f32).collect();
        let px: Vec<f32> = (0..10 * 4).map(|i| i as f32).collect();
        let images = Samples::Images(Images {
            pixels: (&px[..]).into(),
            height: 2,
            width: 2,
        });
        let o = ViewOptions {
            max_thumbnails: 4,
            ..ViewOptions::titled("t")
        };
        let l = layer(&c).with_samples(images, "px.npy");
        let (_, s) = build(&[l], &o).unwrap();
        assert_eq!(s.thumbnails, 4, "points 0, 3, 6, 9");
        assert_eq!(s.points, 10);
    }
}
