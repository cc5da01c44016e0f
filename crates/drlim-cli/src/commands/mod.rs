//! One module per subcommand.

mod bench;
mod demo;
mod embed;
mod eval;
mod experiment;
mod export;
mod fit;
mod plot;
mod render;
mod sources;

use std::process::ExitCode;

use drlim::{Result, TrainConfig};

use crate::cli::{augmentation, Cli, Command, NetArg, NormaliseArg, TrainArgs};

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let device = drlim::device::device(&cli.device)
        .map_err(|e| drlim::Error::param(format!("--device: {e}")))?;
    let done = |r: Result<()>| r.map(|()| ExitCode::SUCCESS);
    match cli.command {
        // fit alone can end otherwise: interrupted, with 130 or 143
        Command::Fit(a) => fit::run(*a, &device),
        Command::Embed(a) => done(embed::run(a, &device)),
        Command::Export(a) => done(export::run(a, &device)),
        Command::Eval(a) => done(eval::run(a)),
        Command::Plot(a) => done(plot::run(a)),
        Command::Demo(a) => done(demo::run(a, &device)),
        Command::Bench(a) => done(bench::run(a)),
        Command::Render(a) => done(render::run(a)),
        Command::Experiment(a) => done(experiment::run(a, &device)),
    }
}

/// The fit options of the shared training flags.
pub(crate) fn fit_options(
    t: &TrainArgs,
    net: NetArg,
    hidden: &[usize],
    normalise: NormaliseArg,
) -> Result<drlim::FitOptions> {
    let augment = augmentation(t.augment.as_deref())?;
    Ok(drlim::FitOptions {
        net: net.net_kind(hidden),
        dim: t.dim,
        k: t.k,
        knn_method: t.knn.into(),
        knn_weights: t.knn_weights.into(),
        normalise: normalise.into(),
        train: TrainConfig {
            epochs: t.epochs,
            batch: t.batch,
            lr: t.lr,
            lr_decay: t.lr_decay,
            momentum: t.momentum,
            weight_decay: t.weight_decay,
            optimizer: t.optimizer.into(),
            margin: t.margin,
            neg_ratio: t.neg_ratio,
            seed: t.seed,
            engine: t.engine.into(),
            augment,
            augment_pairs: t.augment_pairs,
            augment_neighbours: !t.augment_self_only,
            augment_final: t.augment_final,
            negatives: t.negatives.into(),
            loss: t.loss.into(),
        },
    })
}

/// Prints to stdout unless quiet.
pub(crate) fn say(quiet: bool, msg: impl std::fmt::Display) {
    if !quiet {
        println!("{msg}");
    }
}

/// The path as text, for messages.
pub(crate) fn show(p: &std::path::Path) -> String {
    p.display().to_string()
}
