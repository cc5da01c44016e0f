//! One module per subcommand.

mod bench;
mod demo;
mod embed;
mod eval;
mod experiment;
mod fit;
mod plot;
mod render;
mod sources;

use drlim::{Result, TrainConfig};

use crate::cli::{
    augmentation, Cli, Command, KnnArg, NetArg, NormaliseArg, OptimizerArg, TrainArgs,
};

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<()> {
    let device = drlim::device::device(&cli.device)?;
    match cli.command {
        Command::Fit(a) => fit::run(*a, &device),
        Command::Embed(a) => embed::run(a, &device),
        Command::Eval(a) => eval::run(a),
        Command::Plot(a) => plot::run(a),
        Command::Demo(a) => demo::run(a, &device),
        Command::Bench(a) => bench::run(a),
        Command::Render(a) => render::run(a),
        Command::Experiment(a) => experiment::run(a, &device),
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
        net: match net {
            NetArg::Conv => drlim::NetKind::Conv,
            NetArg::Mlp => drlim::NetKind::Mlp {
                hidden: hidden.to_vec(),
            },
        },
        dim: t.dim,
        k: t.k,
        knn_method: match t.knn {
            KnnArg::Exact => drlim::KnnMethod::Exact,
            KnnArg::Hnsw => drlim::KnnMethod::Hnsw,
            KnnArg::Invariant => drlim::KnnMethod::Invariant,
        },
        normalise: match normalise {
            NormaliseArg::Auto => drlim::data::NormaliseMode::Auto,
            NormaliseArg::None => drlim::data::NormaliseMode::None,
            NormaliseArg::Unit => drlim::data::NormaliseMode::Unit,
            NormaliseArg::Standardise => drlim::data::NormaliseMode::Standardise,
        },
        train: TrainConfig {
            epochs: t.epochs,
            batch: t.batch,
            lr: t.lr,
            lr_decay: t.lr_decay,
            momentum: t.momentum,
            weight_decay: t.weight_decay,
            optimizer: match t.optimizer {
                OptimizerArg::Sgd => drlim::OptimizerKind::Sgd,
                OptimizerArg::Adam => drlim::OptimizerKind::Adam,
            },
            margin: t.margin,
            neg_ratio: t.neg_ratio,
            seed: t.seed,
            engine: t.engine.into(),
            augment,
            augment_pairs: t.augment_pairs,
            augment_neighbours: !t.augment_self_only,
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
