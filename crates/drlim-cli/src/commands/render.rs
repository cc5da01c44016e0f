//! `drlim render airplane`: the NORB-like image set; `drlim render digits`: many transformed
//! built-in digits.

use drlim::Result;
use drlim_paper::many_digits::write_many_digits;
use drlim_paper::render::{airplane_set, export, nearest_neighbour_agreement};

use super::show;
use crate::cli::{RenderArgs, RenderName};

pub fn run(a: RenderArgs) -> Result<()> {
    match a.name {
        RenderName::Airplane => {
            let set = airplane_set();
            let files = export(&set, &a.out)?;
            let (light, pose) = nearest_neighbour_agreement(&set);
            println!(
                "rendered {} views of 96×96; nearest Euclidean neighbour shares the lighting for {:.1}% of images, the pose for {:.1}%",
                set.images.n,
                100.0 * light,
                100.0 * pose
            );
            for f in files {
                println!("wrote {}", show(&f));
            }
        }
        RenderName::Digits => {
            let aug = drlim::Augmentation::parse(&a.augment)?;
            let bar = crate::progress::samples_bar(false, a.n, "making digits");
            let files = write_many_digits(a.n, &aug, a.seed, &a.out, |done| {
                bar.set_position(done as u64)
            })?;
            bar.finish_and_clear();
            println!(
                "made {} digits: the built-in 10,000 under {} (seed {})",
                a.n,
                aug.describe(),
                a.seed
            );
            for f in files {
                println!("wrote {}", show(&f));
            }
        }
    }
    Ok(())
}
