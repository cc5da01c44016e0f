//! `drlim fit --timings`: the wall time of each stage and the peak memory reached by its end,
//! for measuring how fitting grows with the data.

use std::time::Instant;

use drlim_paper::bench::peak_rss_mib;

/// Stages in order: name, seconds, peak RSS in MiB by the stage's end (where known).
pub struct Timings {
    enabled: bool,
    last: Instant,
    stages: Vec<(String, f64, Option<f64>)>,
    epochs: usize,
    /// The peak memory estimated before the work (bytes), to compare with the measured one.
    pub estimate: Option<u64>,
}

impl Timings {
    /// Starts the clock (records nothing when not `enabled`).
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            last: Instant::now(),
            stages: Vec::new(),
            epochs: 0,
            estimate: None,
        }
    }

    /// Ends the stage `name` now.
    pub fn stage(&mut self, name: &str) {
        if !self.enabled {
            return;
        }
        let seconds = self.lap();
        self.stages
            .push((name.to_string(), seconds, peak_rss_mib()));
    }

    /// Seconds since the last stage or epoch ended; restarts the clock.
    fn lap(&mut self) -> f64 {
        let now = Instant::now();
        let seconds = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        seconds
    }

    /// Ends one training epoch: epochs add up into one `training` stage.
    pub fn epoch(&mut self) {
        if !self.enabled {
            return;
        }
        self.epochs += 1;
        let seconds = self.lap();
        match self.stages.last_mut() {
            Some((name, s, peak)) if name == "training" => {
                *s += seconds;
                *peak = peak_rss_mib();
            }
            _ => self
                .stages
                .push(("training".to_string(), seconds, peak_rss_mib())),
        }
    }

    /// Prints the table on stderr.
    pub fn print(&self) {
        if !self.enabled {
            return;
        }
        eprintln!("timings (wall time; peak RSS by the stage's end):");
        for (name, seconds, peak) in &self.stages {
            let peak = peak.map_or("?".to_string(), |mib| {
                format!("{:.2} GB", mib * 1_048_576.0 / 1e9)
            });
            let each = if name == "training" && self.epochs > 0 {
                format!(
                    " ({} epochs, {:.2} s each)",
                    self.epochs,
                    seconds / self.epochs as f64
                )
            } else {
                String::new()
            };
            eprintln!("  {name:<16} {seconds:>9.2} s  {peak:>9}{each}");
        }
        let measured = self
            .stages
            .iter()
            .filter_map(|s| s.2)
            .fold(None, |m: Option<f64>, p| Some(m.map_or(p, |m| m.max(p))));
        if let (Some(mib), Some(estimate)) = (measured, self.estimate) {
            let measured = mib * 1_048_576.0;
            eprintln!(
                "peak memory: measured {:.3} GB, estimated {:.3} GB ({:.2}× the measured)",
                measured / 1e9,
                estimate as f64 / 1e9,
                estimate as f64 / measured
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_add_up_into_one_training_stage() {
        let mut t = Timings::new(true);
        t.stage("load");
        t.epoch();
        t.epoch();
        t.stage("embedding");
        let names: Vec<&str> = t.stages.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(names, ["load", "training", "embedding"]);
        assert_eq!(t.epochs, 2);
        if cfg!(target_os = "linux") {
            assert!(t.stages.iter().all(|s| s.2.is_some_and(|mib| mib > 1.0)));
        }
        let mut off = Timings::new(false);
        off.stage("load");
        assert!(off.stages.is_empty());
    }
}
