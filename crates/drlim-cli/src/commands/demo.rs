//! `drlim demo`: the registry's demo experiments on the built-in data, with an index page.

use std::fmt::Write as _;
use std::time::Instant;

use drlim::{Device, Result};
use drlim_paper::registry::{Settings, EXPERIMENTS};

use super::experiment::run_one;
use super::{say, show};
use crate::cli::DemoArgs;

pub fn run(a: DemoArgs, device: &Device) -> Result<()> {
    let t0 = Instant::now();
    let mut index =
        String::from("# drlim demo: the paper's experiments (Hadsell, Chopra & LeCun 2006)\n\n");
    if a.quick {
        index += "**Quick run** (`--quick`: a few epochs per run): it checks the pipeline; the maps, figures and numbers below are not the paper's results. Run `drlim demo` without `--quick` for those.\n\n";
    }
    index += "| experiment | what | epochs | headline (test set, out of sample) | targets | report | interactive maps |\n|---|---|---|---|---|---|---|\n";
    for exp in EXPERIMENTS.iter().filter(|e| e.in_demo) {
        if !a.only.is_empty() && !a.only.iter().any(|o| o == exp.name) {
            continue;
        }
        let dir = exp.name;
        say(a.quiet, format!("— {dir}: {}", exp.about));
        let (epochs, lr) = if a.quick {
            (Some(exp.quick_epochs), None)
        } else {
            (exp.demo_epochs, exp.demo_lr)
        };
        let t = Instant::now();
        let settings = Settings {
            epochs,
            lr,
            seed: a.seed,
            // the demo runs the paper's experiments; `drlim experiment` adds the variants
            variant: false,
            ..Settings::default()
        };
        let o = run_one(exp, &a.out.join(dir), &settings, a.quiet, device)?;
        for l in &o.lines {
            println!("{l}");
        }
        let own = (exp.defaults)().train;
        let epochs = match (epochs, lr) {
            (Some(e), _) if a.quick => format!("{e} (quick)"),
            (Some(e), lr) => format!(
                "{e} at lr {} (`drlim experiment {dir}`: {} at lr {})",
                lr.unwrap_or(own.lr),
                own.epochs,
                own.lr
            ),
            (None, _) => format!("{} at lr {}", own.epochs, own.lr),
        };
        let _ = writeln!(
            index,
            "| {dir} | {} | {epochs} | {} | {} | [{dir}/report.md]({dir}/report.md) ({:.0} s) | {} |",
            exp.about,
            o.headline,
            if o.targets_met {
                "met"
            } else {
                "**missed** (see report)"
            },
            t.elapsed().as_secs_f64(),
            map_links(&a.out, dir)
        );
    }
    let _ = write!(
        index,
        "\nTotal {:.0} s. Where the epochs column names fewer epochs than `drlim experiment`, the demo ran that experiment lighter, against the same targets. Each folder also holds `metrics.json`, the figures (PNG and SVG), the embeddings (NPY) and the interactive maps (HTML: open them in a browser; hover a point to see its digit or view). Rerun one in full with `drlim experiment <name> --out DIR`.\n",
        t0.elapsed().as_secs_f64()
    );
    let p = a.out.join("index.md");
    drlim::output::write_bytes(&p, index.as_bytes())?;
    println!("wrote {} (index.md links the reports)", show(&a.out));
    Ok(())
}

/// Links to the interactive maps (`*.html`) an experiment wrote in `out/dir`.
fn map_links(out: &std::path::Path, dir: &str) -> String {
    let mut maps: Vec<String> = std::fs::read_dir(out.join(dir))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".html"))
        .collect();
    maps.sort();
    let links: Vec<String> = maps
        .iter()
        .map(|m| format!("[{}]({dir}/{m})", m.trim_end_matches(".html")))
        .collect();
    links.join(", ")
}
