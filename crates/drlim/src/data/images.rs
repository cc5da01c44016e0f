//! Image transformations that generate prior knowledge: a shifted copy of a digit is the same
//! digit (Hadsell et al. 2006, §4.2: shifts of −6, −3, +3, +6 pixels horizontally).

use super::Dataset;
use crate::error::{Error, Result};

/// Every image of `images` (shape `[h, w]`) moved `dx` pixels right and `dy` pixels down
/// (negative: left, up); pixels moved in from outside take the value `fill` (the background).
pub fn shift(images: &Dataset, dx: i32, dy: i32, fill: f32) -> Result<Dataset> {
    let [h, w] = images.shape[..] else {
        return Err(Error::data(
            &images.origin,
            format!(
                "shifting needs images of shape [h, w], not {:?}",
                images.shape
            ),
        ));
    };
    let mut values = Vec::with_capacity(images.n * h * w);
    for i in 0..images.n {
        let img = images.row(i);
        for r in 0..h as i32 {
            for c in 0..w as i32 {
                let (sr, sc) = (r - dy, c - dx);
                let inside = (0..h as i32).contains(&sr) && (0..w as i32).contains(&sc);
                values.push(if inside {
                    img[(sr * w as i32 + sc) as usize]
                } else {
                    fill
                });
            }
        }
    }
    Dataset::new(
        &images.origin,
        values,
        images.n,
        images.shape.clone(),
        images.dtype,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SourceDtype;

    #[test]
    fn shifts_right_and_left_filling_with_background() {
        // one 2×4 image: row 0 = 1 2 3 4, row 1 = 5 6 7 8
        let d = Dataset::new(
            "x",
            (1..=8).map(|v| v as f32).collect(),
            1,
            vec![2, 4],
            SourceDtype::U8,
        )
        .unwrap();
        assert_eq!(
            shift(&d, 1, 0, 0.0).unwrap().values(),
            vec![0.0, 1.0, 2.0, 3.0, 0.0, 5.0, 6.0, 7.0]
        );
        assert_eq!(
            shift(&d, -2, 0, 9.0).unwrap().values(),
            vec![3.0, 4.0, 9.0, 9.0, 7.0, 8.0, 9.0, 9.0]
        );
        assert_eq!(
            shift(&d, 0, 1, 0.0).unwrap().values(),
            vec![0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0]
        );
        // shifting back and forth loses only what left the frame
        let back = shift(&shift(&d, 3, 0, 0.0).unwrap(), -3, 0, 0.0).unwrap();
        assert_eq!(back.values(), vec![1.0, 0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0]);
        let v = Dataset::new("v", vec![1.0, 2.0], 1, vec![2], SourceDtype::F32).unwrap();
        assert!(shift(&v, 1, 0, 0.0).is_err());
    }
}
