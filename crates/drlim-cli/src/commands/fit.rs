//! `drlim fit`: data → k-NN neighbours → pairs → training → model directory, with
//! checkpoints, interrupts and resume.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use drlim::data::{load, load_labels_for, SampleStream, SourceDtype};
use drlim::eval::{knn_accuracy_loo, pair_distances};
use drlim::memory::{available, estimate_fit, gb, DataSize, MemoryEstimate};
use drlim::model::MODEL_FILES;
use drlim::neighbours::NeighbourGraph;
use drlim::output::{check_replaceable_dir, check_writable, write_matrix};
use drlim::pairs::PairCounts;
use drlim::points::Points;
use drlim::train::checkpoint::{CHECKPOINT_FILE, CHECKPOINT_FILES};
use drlim::{
    fit_resume, fit_with, Checkpoint, Device, EpochReport, Error, Model, Outcome, Result,
    TrainObserver,
};

use super::{fit_options, say, show};
use crate::cli::{FitArgs, SourceArg};
use crate::interrupt::{self, Interrupts};
use crate::progress::Progress;
use crate::timings::Timings;

pub fn run(a: FitArgs, device: &Device) -> Result<ExitCode> {
    let quiet = a.train.quiet;
    // Check every output before the long work, so a typo does not cost a training run.
    check_replaceable_dir(&a.model_out, &MODEL_FILES)?;
    let checkpoint_dir = a
        .checkpoint
        .clone()
        .unwrap_or_else(|| default_checkpoint(&a.model_out));
    check_replaceable_dir(&checkpoint_dir, &CHECKPOINT_FILES)?;
    let resume = a
        .resume
        .as_ref()
        .map(|dir| Checkpoint::load(dir, device))
        .transpose()?;
    for e in a.embedding_out.iter().chain(&a.graph_out) {
        drlim::output::MatrixFormat::from_path(e)?;
        check_writable(e)?;
    }
    let mut timings = Timings::new(a.timings);
    timings.estimate = check_memory(&a)?;
    let mut data = load(&a.data)?;
    timings.stage("load");
    let mut labels = a
        .labels
        .as_ref()
        .map(|l| load_labels_for(l, data.n))
        .transpose()?;
    // with --fit-sample: train on a sample, keep everything to embed
    let mut everything = None;
    if let Some(m) = a.fit_sample {
        let idx = fit_sample(m, data.n, a.train.seed, &a.data)?;
        let sample = data
            .select(&idx)
            .named(format!("{} (a sample of {m})", show(&a.data)));
        labels = labels.map(|l| idx.iter().map(|&i| l[i]).collect());
        say(
            quiet,
            format!(
                "--fit-sample: training on {m} of the {} samples (drawn with seed {})",
                data.n, a.train.seed
            ),
        );
        everything = Some((std::mem::replace(&mut data, sample), idx));
    }
    say(
        quiet,
        format!(
            "data: {} samples of shape {:?} ({})",
            data.n,
            data.shape,
            show(&a.data)
        ),
    );
    let options = fit_options(&a, (data.n, &data.shape), a.neighbours == [SourceArg::Knn])?;
    say(
        quiet,
        settings_line(a.train.preset.into(), &options, data.dim()),
    );
    if let Some(aug) = &options.train.augment {
        let t = &options.train;
        let fall = if t.augment_final < 1.0 {
            format!(
                ", falling linearly to {} of these strengths by epoch {}",
                t.augment_final, t.epochs
            )
        } else {
            String::new()
        };
        say(
            quiet,
            format!("declared invariances: {}{fall}", aug.describe()),
        );
    }
    let source = super::sources::build(&a, &options, labels.as_deref(), &data)?;
    let mut watch = Watch {
        progress: Progress::new(quiet),
        interrupts: Interrupts::default(),
        dir: &checkpoint_dir,
        every: a.checkpoint_every,
        epochs: options.train.epochs,
        saved: None,
        told: false,
        timings,
    };
    let fitted = match resume {
        Some((checkpoint, graph)) => {
            let threads = rayon::current_num_threads();
            if checkpoint.threads != threads && !quiet {
                eprintln!(
                    "note: the checkpoint was written with {} threads and this run has {threads}, so the weights will differ slightly from an uninterrupted run's (--threads {} gives the same)",
                    checkpoint.threads, checkpoint.threads
                );
            }
            say(
                quiet,
                format!(
                    "resuming after epoch {} of {} from {}",
                    checkpoint.epochs(),
                    options.train.epochs,
                    checkpoint.origin
                ),
            );
            watch.saved = (a.resume.as_deref() == Some(checkpoint_dir.as_path()))
                .then(|| checkpoint.epochs());
            fit_resume(
                &data,
                &options,
                source.as_ref(),
                checkpoint,
                graph,
                device,
                &mut watch,
            )?
        }
        None => fit_with(&data, &options, source.as_ref(), device, &mut watch)?,
    };
    if let Outcome::Stopped { epochs } = fitted.outcome {
        let sig = watch.interrupts.signal().unwrap_or(libc::SIGINT);
        match &fitted.checkpoint {
            Some(checkpoint) => {
                if watch.saved != Some(checkpoint.epochs()) {
                    checkpoint.save(&checkpoint_dir, &fitted.graph)?;
                }
                eprintln!(
                    "interrupted by {}: saved the state after epoch {epochs} of {} to {} (a model directory too); resume with:\n  {}",
                    interrupt::name(sig),
                    options.train.epochs,
                    show(&checkpoint_dir),
                    resume_command(&checkpoint_dir)
                );
            }
            None => eprintln!(
                "interrupted by {} before the first epoch ended: nothing to save",
                interrupt::name(sig)
            ),
        }
        return Ok(ExitCode::from(interrupt::exit_code(sig)));
    }
    let mut timings = watch.timings;
    let model = &fitted.model;
    model.save(&a.model_out)?;
    timings.stage("saving");
    if let Err(err) = fitted.outcome.check() {
        let kept = fitted.history.len();
        return Err(Error::param(format!(
            "{err}; kept the model of the last good epoch ({kept}) in {}",
            show(&a.model_out)
        )));
    }
    // completed: the checkpoint has served its purpose
    if checkpoint_dir.join(CHECKPOINT_FILE).is_file() {
        match std::fs::remove_dir_all(&checkpoint_dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => eprintln!(
                "warning: {}: cannot remove the checkpoint: {e}",
                show(&checkpoint_dir)
            ),
            _ => {}
        }
    }
    let emb = model.embed(&data)?;
    let points = Points::new(&emb, model.dim());
    let d = pair_distances(&points, &fitted.graph, 5000, options.train.seed);
    say(
        quiet,
        format!(
            "training map: mean distance of neighbour pairs {:.4}, of random pairs {:.4} (ratio {:.3})",
            d.neighbour_mean,
            d.random_mean,
            d.ratio()
        ),
    );
    if let Some(labels) = labels {
        let acc = knn_accuracy_loo(&points, &labels, options.k.max(1))?;
        say(
            quiet,
            format!(
                "training map: leave-one-out {}-NN accuracy {acc:.4}",
                options.k.max(1)
            ),
        );
    }
    if let Some(path) = &a.embedding_out {
        match &everything {
            Some((all, _)) => {
                write_matrix(path, &model.embed(all)?, all.n, model.dim())?;
                say(
                    quiet,
                    format!(
                        "wrote the embedding of all {} samples to {}",
                        all.n,
                        show(path)
                    ),
                );
            }
            None => {
                write_matrix(path, &emb, data.n, model.dim())?;
                say(
                    quiet,
                    format!("wrote the training embedding to {}", show(path)),
                );
            }
        }
        if (2..=3).contains(&model.dim()) {
            say(
                quiet,
                format!(
                    "explore it in a browser: drlim view --embedding {} --data {} --out map.html",
                    show(path),
                    show(&a.data)
                ),
            );
        }
    }
    if let Some(path) = &a.graph_out {
        // indices into the data file, also when training was on a sample of it
        let at = |k: u32| match &everything {
            Some((_, idx)) => idx[k as usize] as f32,
            None => k as f32,
        };
        let weights = fitted.graph.weights();
        let cols = if weights.is_some() { 3 } else { 2 };
        let mut rows = Vec::with_capacity(fitted.graph.len() * cols);
        for (e, &(i, j)) in fitted.graph.pairs().iter().enumerate() {
            rows.extend([at(i), at(j)]);
            if let Some(w) = weights {
                rows.push(w[e]);
            }
        }
        write_matrix(path, &rows, fitted.graph.len(), cols)?;
        say(
            quiet,
            format!(
                "wrote the {} neighbour pairs{} to {}",
                fitted.graph.len(),
                if weights.is_some() {
                    " and their weights"
                } else {
                    ""
                },
                show(path)
            ),
        );
    }
    timings.stage("embedding");
    say(quiet, format!("saved the model to {}", show(&a.model_out)));
    timings.print();
    if let Some(sig) = watch.interrupts.signal() {
        eprintln!(
            "interrupted by {} after training; the outputs are complete",
            interrupt::name(sig)
        );
        return Ok(ExitCode::from(interrupt::exit_code(sig)));
    }
    Ok(ExitCode::SUCCESS)
}

/// The sorted indices of `m` of `n` samples drawn without replacement with `seed` (the same
/// seed, the same sample: a resumed run trains on the same one).
fn fit_sample(m: usize, n: usize, seed: u64, data: &Path) -> Result<Vec<usize>> {
    use rand::SeedableRng;
    if m == 0 || m > n {
        return Err(Error::param(format!(
            "--fit-sample {m}: {} holds {n} samples; give a number from 1 to {n}",
            show(data)
        )));
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x6669_742d_7361_6d70);
    let mut idx = rand::seq::index::sample(&mut rng, n, m).into_vec();
    idx.sort_unstable();
    Ok(idx)
}

/// One line saying which settings train: the preset, and what it and the flags made of it
/// for samples of `dim` values.
fn settings_line(preset: drlim::Preset, o: &drlim::FitOptions, dim: usize) -> String {
    let net = match &o.net {
        drlim::NetKind::Conv => "the paper's convnet".to_string(),
        drlim::NetKind::Mlp { hidden } => {
            format!(
                "MLP {}",
                hidden
                    .iter()
                    .map(|h| h.to_string())
                    .collect::<Vec<_>>()
                    .join("-")
            ) + &o
                .front_components(dim)
                .map_or(String::new(), |c| format!(" on {c} principal components"))
        }
    };
    let t = &o.train;
    format!(
        "settings: preset {} → {net}, k = {} ({:?} weights, {} metric), {:?} non-neighbours, {:?} loss, {} epochs of batch {}, lr {} (× {:.4} per epoch), normalise {:?}",
        preset.name(),
        o.k,
        o.knn_weights,
        o.metric.name(),
        t.negatives,
        t.loss,
        t.epochs,
        t.batch,
        t.lr,
        t.lr_decay,
        o.normalise
    )
    .to_lowercase()
    .replace("cauchyinfonce", "cauchy-infonce")
}

/// `MODEL_OUT.checkpoint`, beside the model directory.
fn default_checkpoint(model_out: &Path) -> PathBuf {
    // without a trailing separator, so that the suffix goes on the name
    let mut name = model_out.components().collect::<PathBuf>().into_os_string();
    name.push(".checkpoint");
    PathBuf::from(name)
}

/// This very command line with `--resume DIR` (replacing any earlier `--resume`), quoted for
/// a POSIX shell.
fn resume_command(dir: &Path) -> String {
    let mut args: Vec<String> = std::env::args().collect();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--resume" {
            args.drain(i..(i + 2).min(args.len()));
        } else if args[i].starts_with("--resume=") {
            args.remove(i);
        } else {
            i += 1;
        }
    }
    args.push("--resume".into());
    args.push(dir.display().to_string());
    let quote = |s: &String| {
        let plain = !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-./=,:+@%".contains(c));
        if plain {
            s.clone()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    args.iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// Training's observer for `fit`: progress on the terminal, checkpoints every `every` epochs,
/// and a stop at the end of the current step on SIGINT or SIGTERM.
struct Watch<'a> {
    progress: Progress,
    interrupts: Interrupts,
    dir: &'a Path,
    every: usize,
    epochs: usize,
    /// The epoch whose checkpoint is on disk.
    saved: Option<usize>,
    told: bool,
    timings: Timings,
}

impl TrainObserver for Watch<'_> {
    fn on_graph(&mut self, pairs: usize, source: &str, seconds: f64) {
        self.timings.stage("neighbour graph");
        self.progress.on_graph(pairs, source, seconds);
    }

    fn on_pairs(&mut self, counts: &PairCounts) {
        self.progress.on_pairs(counts);
    }

    fn on_start(&mut self, epochs: usize, pairs_per_epoch: usize) {
        if let Err(e) = self.interrupts.install() {
            eprintln!("warning: cannot watch for Ctrl-C ({e}); an interrupt will lose the epoch in progress");
        }
        self.timings.stage("pairs and setup");
        self.progress.on_start(epochs, pairs_per_epoch);
    }

    fn on_progress(
        &mut self,
        epoch: usize,
        done: usize,
        total: usize,
        loss: f32,
    ) -> ControlFlow<()> {
        if let Some(sig) = self.interrupts.signal() {
            if !self.told {
                self.told = true;
                eprintln!(
                    "\n{}: stopping after this step (again to quit at once)",
                    interrupt::name(sig)
                );
            }
            return ControlFlow::Break(());
        }
        self.progress.on_progress(epoch, done, total, loss)
    }

    fn on_epoch(&mut self, report: &EpochReport, model: &Model) -> ControlFlow<()> {
        self.timings.epoch();
        self.progress.on_epoch(report, model)
    }

    fn on_checkpoint(&mut self, checkpoint: &Checkpoint, graph: &NeighbourGraph) {
        let epoch = checkpoint.epochs();
        // the last epoch's state becomes the model itself
        if self.every == 0 || !epoch.is_multiple_of(self.every) || epoch >= self.epochs {
            return;
        }
        match checkpoint.save(self.dir, graph) {
            Ok(()) => self.saved = Some(epoch),
            Err(e) => eprintln!("warning: {e}; training goes on without this checkpoint"),
        }
    }
}

/// Estimates the fit's peak memory from the data file's header, before anything is read or
/// trained, prints it with --timings, and refuses with one message when it exceeds
/// --max-memory or, without it, the memory available. Returns the estimate (bytes), if the
/// file's header could be read.
fn check_memory(a: &FitArgs) -> Result<Option<u64>> {
    // a file that cannot be opened is left to `load`, which says why
    let Ok(Some(stream)) = SampleStream::open(&a.data) else {
        return Ok(None);
    };
    let (n, shape) = (stream.n(), stream.shape().to_vec());
    let bytes = stream.dtype() == SourceDtype::U8;
    drop(stream);
    let dim: usize = shape.iter().product();
    let knn = a.neighbours.contains(&SourceArg::Knn);
    let knn_only = a.neighbours == [SourceArg::Knn];
    let estimate = |m: usize| -> Result<MemoryEstimate> {
        let options = fit_options(a, (m, &shape), knn_only)?;
        let mut e = estimate_fit(DataSize { n: m, dim, bytes }, &options, knn);
        if m < n {
            e.add(
                "all samples, kept to embed",
                (n * dim * if bytes { 1 } else { 4 }) as u64,
            );
        }
        Ok(e)
    };
    let trained = a.fit_sample.map_or(n, |m| m.min(n));
    let e = estimate(trained)?;
    let (limit, what) = match a.max_memory {
        Some(m) => (Some(m), "that --max-memory allows"),
        None => (available(), "available (cgroup limit or MemAvailable)"),
    };
    if a.timings {
        let limit = limit.map_or("unknown".into(), gb);
        eprintln!("memory: estimated peak {}; {limit} {what}", e.describe());
    }
    let Some(limit) = limit.filter(|&l| e.peak > l) else {
        return Ok(Some(e.peak));
    };
    // the largest sample that fits, for the advice
    let fits = |m: usize| estimate(m).is_ok_and(|e| e.peak <= limit);
    let (mut lo, mut hi) = (0usize, trained);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let mut advice = Vec::new();
    if lo >= 1000 {
        advice.push(format!(
            "train on a sample with --fit-sample {}",
            round_down(lo)
        ));
    }
    if a.train.knn == crate::cli::KnnArg::Hnsw {
        advice.push("build the graph with --knn nndescent (no copy of the samples)".into());
    }
    if !bytes {
        advice.push("store the samples as u8 if they are bytes (a quarter of the memory)".into());
    }
    advice.push("raise the limit with --max-memory".into());
    let last = advice.pop().expect("one piece of advice");
    let advice = match advice.is_empty() {
        true => last,
        false => format!("{}, or {last}", advice.join(", ")),
    };
    Err(Error::param(format!(
        "{}: fitting {trained} samples of {dim} values needs about {} of memory, more than the {} {what}; to fit, {advice}",
        a.data.display(),
        e.describe(),
        gb(limit),
    )))
}

/// `m` rounded down to two significant digits (a sample size to suggest).
fn round_down(m: usize) -> usize {
    let scale = 10usize.pow((m as f64).log10().floor() as u32).max(10) / 10;
    m / scale * scale
}
