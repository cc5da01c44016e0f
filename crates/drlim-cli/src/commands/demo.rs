//! `drlim demo`: the paper's three experiments on the built-in data, with an index page.

use std::fmt::Write as _;
use std::time::Instant;

use drlim::experiments::airplane::SplitBy;
use drlim::{Device, Result};

use super::experiment::{run_one, Overrides};
use super::{say, show};
use crate::cli::{DemoArgs, ExperimentName};

const ALL: [(ExperimentName, &str, &str, usize); 3] = [
    (
        ExperimentName::Mnist49,
        "mnist-4-9",
        "§4.1, Figure 4: MNIST 4s and 9s, 5 nearest Euclidean neighbours, convnet → 2-D, test digits mapped out of sample",
        8,
    ),
    (
        ExperimentName::MnistShift,
        "mnist-shift",
        "§4.2, Figures 5–7: the digits shifted by −6, −3, +3, +6 pixels; Euclidean neighbours vs prior knowledge",
        2,
    ),
    (
        ExperimentName::Airplane,
        "airplane",
        "§4.3, Figures 8–9: NORB-like airplane views, neighbours = adjacent poses whatever the lighting, 2-layer net → 3-D",
        15,
    ),
];

pub fn run(a: DemoArgs, device: &Device) -> Result<()> {
    let t0 = Instant::now();
    let mut index =
        String::from("# drlim demo: the paper's experiments (Hadsell, Chopra & LeCun 2006)\n\n");
    if a.quick {
        index += "**Quick run** (`--quick`: a few epochs per run): it checks the pipeline; the maps, figures and numbers below are not the paper's results. Run `drlim demo` without `--quick` for those.\n\n";
    }
    index += "| experiment | what | headline (test set, out of sample) | targets | report |\n|---|---|---|---|---|\n";
    for (name, dir, what, quick_epochs) in ALL {
        if !a.only.is_empty() && !a.only.contains(&name) {
            continue;
        }
        say(a.quiet, format!("— {dir}: {what}"));
        let out = a.out.join(dir);
        let epochs = a.quick.then_some(quick_epochs);
        let t = Instant::now();
        let over = Overrides {
            epochs,
            lr: None,
            seed: a.seed,
            split: SplitBy::Pose,
            // the demo runs the paper's experiments; `drlim experiment` adds the variants
            invariances: false,
        };
        let o = run_one(name, &out, &over, a.quiet, device)?;
        for l in &o.lines {
            println!("{l}");
        }
        let _ = writeln!(
            index,
            "| {dir} | {what} | {} | {} | [{dir}/report.md]({dir}/report.md) ({:.0} s) |",
            o.headline,
            if o.targets_met {
                "met"
            } else {
                "**missed** (see report)"
            },
            t.elapsed().as_secs_f64()
        );
    }
    let _ = write!(
        index,
        "\nTotal {:.0} s. Each folder also holds `metrics.json`, the figures (PNG and SVG) and the embeddings (NPY). Rerun one with `drlim experiment <name> --out DIR`.\n",
        t0.elapsed().as_secs_f64()
    );
    let p = a.out.join("index.md");
    drlim::output::write_bytes(&p, index.as_bytes())?;
    println!("wrote {} (index.md links the reports)", show(&a.out));
    Ok(())
}
