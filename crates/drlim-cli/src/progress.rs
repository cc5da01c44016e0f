//! Training progress for the terminal: a progress bar with epoch, loss and pairs/s when stderr
//! is a terminal, one plain line per epoch otherwise, nothing when quiet.

use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::time::Instant;

use drlim::{EpochReport, TrainObserver};
use indicatif::{ProgressBar, ProgressStyle};

/// Reports training progress on stderr.
pub struct Progress {
    quiet: bool,
    bar: Option<ProgressBar>,
    epochs: usize,
    epoch_start: Instant,
    last_done: usize,
}

impl Progress {
    /// A reporter; `quiet` silences it.
    pub fn new(quiet: bool) -> Self {
        Self {
            quiet,
            bar: None,
            epochs: 0,
            epoch_start: Instant::now(),
            last_done: 0,
        }
    }
}

impl TrainObserver for Progress {
    fn on_graph(&mut self, pairs: usize, source: &str, seconds: f64) {
        if !self.quiet {
            eprintln!("neighbours: {pairs} pairs from {source}, symmetrised ({seconds:.2}s)");
        }
    }

    fn on_pairs(&mut self, c: &drlim::pairs::PairCounts) {
        if !self.quiet {
            let mut parts = vec![format!("{} neighbour pairs", c.neighbour)];
            if c.augmentation > 0 {
                parts.push(format!(
                    "{} augmentation pairs (two transformed copies of one sample)",
                    c.augmentation
                ));
            }
            parts.push(if c.in_batch_non_neighbours {
                "every other sample of the batch as a non-neighbour".into()
            } else {
                format!("{} random non-neighbour pairs", c.non_neighbour)
            });
            eprintln!("pairs per epoch: {}", parts.join(" + "));
        }
    }

    fn on_start(&mut self, epochs: usize, pairs_per_epoch: usize) {
        self.epoch_start = Instant::now();
        if !self.quiet {
            eprintln!("training: {epochs} epochs of {pairs_per_epoch} pairs");
        }
        self.epochs = epochs;
        if self.quiet {
            return;
        }
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new((epochs * pairs_per_epoch) as u64);
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {msg}")
                    .expect("valid template"),
            );
            self.bar = Some(bar);
        }
    }

    fn on_progress(
        &mut self,
        epoch: usize,
        done: usize,
        total: usize,
        loss: f32,
    ) -> ControlFlow<()> {
        if let Some(bar) = &self.bar {
            // redraw about every 1,000 pairs (batches need not divide it)
            if done / 1000 != self.last_done / 1000 || done == total {
                self.last_done = done;
                let rate = done as f64 / self.epoch_start.elapsed().as_secs_f64().max(1e-9);
                bar.set_position(((epoch - 1) * total + done) as u64);
                bar.set_message(format!(
                    "epoch {epoch}/{} loss {loss:.5} {rate:.0} pairs/s",
                    self.epochs
                ));
            }
        }
        ControlFlow::Continue(())
    }

    fn on_epoch(&mut self, r: &EpochReport, _model: &drlim::Model) -> ControlFlow<()> {
        self.epoch_start = Instant::now();
        self.last_done = 0;
        if self.quiet {
            return ControlFlow::Continue(());
        }
        let line = format!(
            "epoch {:>3}/{} loss={:.5} lr={:.4e} pairs/s={:.0} ({:.1}s)",
            r.epoch,
            self.epochs,
            r.loss,
            r.lr,
            r.pairs_per_s(),
            r.seconds
        );
        match &self.bar {
            Some(bar) => {
                bar.println(line);
                if r.epoch == self.epochs {
                    bar.finish_and_clear();
                }
            }
            None => eprintln!("{line}"),
        }
        ControlFlow::Continue(())
    }
}

/// A bar counting samples on stderr, headed by `what`; hidden when `quiet` or when stderr is not
/// a terminal.
pub fn samples_bar(quiet: bool, n: usize, what: &str) -> ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(n as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} samples, {per_sec}, {eta} left")
            .expect("a valid template"),
    );
    bar.set_message(what.to_string());
    bar
}
