//! One module per subcommand.

mod bench;
mod columns;
mod demo;
mod embed;
mod eval;
mod experiment;
mod export;
mod fit;
mod plot;
mod render;
mod sources;
mod view;

use std::process::ExitCode;

use drlim::Result;

use crate::cli::{augmentation, Cli, Command, FitArgs, NegativesArg, NetArg};

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
        Command::View(a) => done(view::run(a)),
        Command::Demo(a) => done(demo::run(a, &device)),
        Command::Bench(a) => done(bench::run(a)),
        Command::Render(a) => done(render::run(a)),
        Command::Experiment(a) => done(experiment::run(a, &device)),
    }
}

/// The fit options of `fit`'s flags for `data`: the preset's, for `data`'s size, with every
/// flag given put over them. `knn_only`: the k-NN graph is the only neighbour source (fuzzy
/// weights apply to it alone, so other sources take the preset's uniform weights).
pub(crate) fn fit_options(
    a: &FitArgs,
    (n, shape): (usize, &[usize]),
    knn_only: bool,
) -> Result<drlim::FitOptions> {
    let t = &a.train;
    let preset: drlim::Preset = t.preset.into();
    let mut o = preset.options(n, shape);
    if let Some(epochs) = t.epochs {
        preset.set_epochs(&mut o, epochs);
    }
    o.net = drlim::preset::chosen_net(&o.net, a.net.map(|n| n == NetArg::Conv), a.hidden.clone());
    o.dim = t.dim;
    o.k = t.k.unwrap_or(o.k);
    o.knn_method = t.knn.into();
    o.knn_weights = match t.knn_weights {
        Some(w) => w.into(),
        None if knn_only => o.knn_weights,
        None => drlim::KnnWeights::Uniform,
    };
    o.metric = t.metric.into();
    o.normalise = a.normalise.map_or(o.normalise, Into::into);
    if a.pca.is_some() {
        preset.set_pca(&mut o, a.pca, shape.iter().product());
    }
    let r = &mut o.train;
    r.batch = t.batch.unwrap_or(r.batch);
    r.lr = t.lr.unwrap_or(r.lr);
    r.lr_decay = t.lr_decay.unwrap_or(r.lr_decay);
    r.momentum = t.momentum;
    r.weight_decay = t.weight_decay;
    r.optimizer = t.optimizer.into();
    r.margin = t.margin;
    r.neg_ratio = t.neg_ratio;
    r.seed = t.seed;
    r.engine = t.engine.into();
    if let Some(spec) = &t.augment {
        r.augment = augmentation(spec)?;
    }
    r.augment_pairs = t.augment_pairs;
    r.augment_neighbours = !t.augment_self_only;
    r.augment_final = t.augment_final;
    r.negatives = t.negatives.map_or(r.negatives, Into::into);
    r.loss = t.loss.map_or(r.loss, Into::into);
    if t.negatives == Some(NegativesArg::Random) && t.loss.is_none() {
        // random non-neighbour pairs go with the contrastive loss
        r.loss = drlim::LossKind::Contrastive;
    }
    Ok(o)
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
