//! `drlim render airplane`: the NORB-like image set.

use drlim::Result;
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
    }
    Ok(())
}
