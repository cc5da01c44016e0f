//! `drlim experiment`: one experiment of the registry on the built-in data.

use drlim::{Device, Error, Result};
use drlim_paper::airplane::SplitBy;
use drlim_paper::registry::{self, Context, Experiment, Outcome, Settings};

use super::show;
use crate::cli::{AirplaneSplit, ExperimentArgs};
use crate::progress::Progress;

/// Which experiments a flag applies to.
type Applies = fn(&Experiment) -> bool;

pub fn run(a: ExperimentArgs, device: &Device) -> Result<()> {
    let exp = registry::find(&a.name).expect("clap accepts registered names only");
    // each flag that belongs to some experiments only: given, the experiments it applies to,
    // and what they have in common
    let only_for: [(&str, bool, Applies, &str); 4] = [
        (
            "--split",
            a.split.is_some(),
            |e| e.takes_split,
            "a choice of split",
        ),
        (
            "--paper-only",
            a.paper_only,
            |e| e.has_variant,
            "a variant beyond the paper",
        ),
        (
            "--augment-final",
            a.augment_final.is_some(),
            |e| e.declares_invariances,
            "a run that declares invariances",
        ),
        (
            "--knn-weights",
            a.knn_weights.is_some(),
            |e| e.declares_invariances,
            "a run that declares invariances",
        ),
    ];
    for (flag, given, applies, which) in only_for {
        if given && !applies(exp) {
            return Err(Error::param(format!(
                "{flag} does not apply to {} (only to experiments with {which}: {})",
                exp.name,
                names(applies)
            )));
        }
    }
    if let Some(f) = a.augment_final {
        // before any run: a bad fraction would otherwise end the experiment after its first run
        drlim::TrainConfig {
            augment_final: f,
            ..drlim::TrainConfig::default()
        }
        .validate()?;
    }
    let settings = Settings {
        epochs: a.epochs,
        lr: a.lr,
        seed: a.seed,
        split: match a.split {
            Some(AirplaneSplit::Image) => SplitBy::Image,
            _ => SplitBy::Pose,
        },
        variant: !a.paper_only,
        augment_final: a.augment_final,
        knn_weights: a.knn_weights.map(Into::into),
    };
    let o = run_one(exp, &a.out, &settings, a.quiet, device)?;
    for l in &o.lines {
        println!("{l}");
    }
    println!(
        "wrote {} (report.md, metrics.json, figures, embeddings)",
        show(&a.out)
    );
    Ok(())
}

/// The registered experiments for which `pred` holds, for messages.
fn names(pred: impl Fn(&Experiment) -> bool) -> String {
    let v: Vec<_> = registry::EXPERIMENTS
        .iter()
        .filter(|e| pred(e))
        .map(|e| e.name)
        .collect();
    v.join(", ")
}

/// Runs one experiment into `out`, with progress on stderr unless quiet.
pub fn run_one(
    exp: &Experiment,
    out: &std::path::Path,
    settings: &Settings,
    quiet: bool,
    device: &Device,
) -> Result<Outcome> {
    (exp.run)(Context {
        settings,
        out,
        device,
        observer: &mut Progress::new(quiet),
    })
}
