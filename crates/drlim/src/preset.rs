//! Presets: named sets of [`FitOptions`], so that the CLI, Python and the experiments never
//! spell a setting twice. [`Preset::Auto`] is what `drlim fit` and `DrLIM()` use when nothing
//! else is asked for, its settings chosen from the data's size by measurement across many kinds
//! of data (BENCHMARKS.md, "Defaults"); [`Preset::Paper`] is the 2006 paper's settings, which
//! the paper's experiments use (and which were the defaults before presets).

use crate::augment::Augmentation;
use crate::data::{Metric, NormaliseMode};
use crate::error::{Error, Result};
use crate::fit::{FitOptions, KnnMethod, KnnWeights, NetKind};
use crate::train::{LossKind, Negatives, OptimizerKind, TrainConfig};

/// A named set of fit options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Preset {
    /// Settings for data nobody tuned for, from the number of samples and their dimension: a
    /// three-layer MLP 128 wide whose first layer trains on the top 30 principal components
    /// of wider samples ([`AUTO_PCA`], folded back afterwards), the 15 nearest neighbours with
    /// UMAP's fuzzy weights, every other sample of a batch a non-neighbour under t-SimCNE's
    /// Cauchy InfoNCE, inputs centred and scaled as a whole, noise and feature dropout on every
    /// arm ([`auto_augmentation`]), a learning rate from the first layer's width
    /// ([`auto_lr`]) falling to a tenth over 24 epochs, fewer on small and large data sets
    /// ([`auto_epochs`]).
    #[default]
    Auto,
    /// The paper's settings: its convnet, 5 Euclidean neighbours, one random non-neighbour
    /// pair per neighbour pair, the contrastive loss, SGD at lr 0.005 with batch 32 for 80
    /// epochs, u8 pixels divided by 255 and floats fed as they are ([`FitOptions::default`]).
    Paper,
}

/// Above this many samples [`Preset::Auto`] trains fewer epochs ([`auto_epochs`]).
pub const AUTO_MANY: usize = 10_000;
/// The range of [`Preset::Auto`]'s epochs.
pub const AUTO_EPOCHS: (usize, usize) = (8, 24);
/// [`Preset::Auto`]'s epochs on a few hundred samples ([`auto_epochs`]).
pub const AUTO_EPOCHS_SMALL: usize = 12;
/// Principal components [`Preset::Auto`]'s first layer is trained on, for samples of more
/// values ([`FitOptions::pca`]).
pub const AUTO_PCA: usize = 30;
/// Nearest neighbours per sample in [`Preset::Auto`].
pub const AUTO_K: usize = 15;
/// Hidden widths of [`Preset::Auto`]'s three-layer MLP.
pub const AUTO_WIDTH: usize = 128;
/// Pairs per step in [`Preset::Auto`].
pub const AUTO_BATCH: usize = 256;

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 2] = [Preset::Auto, Preset::Paper];

    /// The preset's name, as the CLI and Python spell it.
    pub fn name(&self) -> &'static str {
        match self {
            Preset::Auto => "auto",
            Preset::Paper => "paper",
        }
    }

    /// The preset of a name, or an error that lists the names.
    pub fn parse(name: &str) -> Result<Preset> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                Error::param(format!(
                    "unknown preset '{name}'; the presets are: {}",
                    Self::ALL.map(|p| p.name()).join(", ")
                ))
            })
    }

    /// The options for `n` training samples of `shape` (one sample's shape, e.g. `[28, 28]` or
    /// `[50]`).
    pub fn options(&self, n: usize, shape: &[usize]) -> FitOptions {
        match self {
            Preset::Paper => FitOptions::default(),
            Preset::Auto => auto(n, shape.iter().product()),
        }
    }

    /// Sets `options`' PCA front for samples of `dim` values (none or 0: no front); under
    /// [`Preset::Auto`] the learning rate follows the width the first layer then sees.
    pub fn set_pca(&self, options: &mut FitOptions, pca: Option<usize>, dim: usize) {
        options.pca = pca.filter(|&c| c > 0);
        if *self == Preset::Auto {
            options.train.lr = auto_lr(front_width(options.pca, dim));
        }
    }
}

/// The values per sample the first layer sees: `dim`, or fewer with a PCA front.
fn front_width(pca: Option<usize>, dim: usize) -> usize {
    pca.map_or(dim, |c| c.min(dim))
}

impl Preset {
    /// Sets `options`' epochs; under [`Preset::Auto`] the learning rate's decay follows, so
    /// that it still falls to a tenth by the last epoch.
    pub fn set_epochs(&self, options: &mut FitOptions, epochs: usize) {
        options.train.epochs = epochs;
        if *self == Preset::Auto {
            options.train.lr_decay = auto_lr_decay(epochs);
        }
    }
}

/// The network of a preset's `net` with the choices of a user put over it: `conv` (true: the
/// convnet, false: an MLP, none: the preset's kind) and an MLP's `hidden` widths (none: the
/// preset's, or 256-256 where the preset's net is the convnet).
pub fn chosen_net(preset_net: &NetKind, conv: Option<bool>, hidden: Option<Vec<usize>>) -> NetKind {
    match (conv, preset_net) {
        (Some(true), _) | (None, NetKind::Conv) => NetKind::Conv,
        (_, net) => NetKind::Mlp {
            hidden: hidden.unwrap_or_else(|| match net {
                NetKind::Mlp { hidden } => hidden.clone(),
                NetKind::Conv => vec![256, 256],
            }),
        },
    }
}

/// The per-epoch factor that takes the learning rate to a tenth by epoch `epochs`.
fn auto_lr_decay(epochs: usize) -> f64 {
    0.1f64.powf(1.0 / (epochs.max(2) - 1) as f64)
}

/// [`Preset::Auto`]'s learning rate for a first layer over `dim` values: 0.2 up to 64 values,
/// falling as 1/√dim above (the first layer's steps grow with the inputs' squared length,
/// which the `global` normalisation and the PCA front make about `dim`).
pub fn auto_lr(dim: usize) -> f64 {
    0.2 * (64.0 / dim.max(1) as f64).sqrt().min(1.0)
}

/// [`Preset::Auto`]'s declared invariances, for any data: Gaussian noise of 0.3 (in units of
/// the normalised features, whose variance is 1 on average) and a tenth of the features
/// dropped, on every arm of every pair; each sample is also paired with a noisy copy of itself.
/// They keep the network smooth between the training samples, so that new samples land where
/// their neighbours did.
pub fn auto_augmentation() -> Augmentation {
    Augmentation {
        noise: 0.3,
        dropout: 0.1,
        ..Augmentation::default()
    }
}

/// [`Preset::Auto`]'s options for `n` samples of `dim` values.
fn auto(n: usize, dim: usize) -> FitOptions {
    let width = AUTO_WIDTH;
    // fewer than 16 samples: each is a neighbour of every other
    let k = AUTO_K.min(n.saturating_sub(1)).max(1);
    let epochs = auto_epochs(n);
    FitOptions {
        net: NetKind::Mlp {
            hidden: vec![width; 3],
        },
        dim: 2,
        k,
        knn_method: KnnMethod::Auto,
        knn_weights: KnnWeights::Fuzzy,
        metric: Metric::Euclidean,
        normalise: NormaliseMode::Global,
        pca: Some(AUTO_PCA),
        train: TrainConfig {
            epochs,
            batch: AUTO_BATCH,
            lr: auto_lr(front_width(Some(AUTO_PCA), dim)),
            // the learning rate falls to a tenth by the last epoch
            lr_decay: auto_lr_decay(epochs),
            momentum: 0.9,
            optimizer: OptimizerKind::Sgd,
            negatives: Negatives::Batch,
            loss: LossKind::CauchyInfonce,
            augment: Some(auto_augmentation()),
            ..TrainConfig::default()
        },
    }
}

/// [`Preset::Auto`]'s epochs for `n` samples: [`AUTO_EPOCHS`]`.1` up to [`AUTO_MANY`] samples
/// and `.0` above, as UMAP takes 500 epochs up to 10,000 samples and 200 above; below 2,000
/// samples one per 80 samples, but at least [`AUTO_EPOCHS_SMALL`] (UMAP's time per sample
/// falls there too).
pub fn auto_epochs(n: usize) -> usize {
    if n > AUTO_MANY {
        AUTO_EPOCHS.0
    } else {
        (n / 80).clamp(AUTO_EPOCHS_SMALL, AUTO_EPOCHS.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_presets() {
        for p in Preset::ALL {
            assert_eq!(Preset::parse(p.name()).unwrap(), p);
        }
        let e = Preset::parse("umap").unwrap_err().to_string();
        assert!(
            e.contains("unknown preset 'umap'") && e.contains("auto, paper"),
            "{e}"
        );
    }

    #[test]
    fn the_paper_preset_is_the_libraries_paper_defaults() {
        let p = Preset::Paper.options(100, &[28, 28]);
        let d = FitOptions::default();
        assert_eq!(format!("{p:?}"), format!("{d:?}"));
        assert_eq!(p.net, NetKind::Conv);
        assert_eq!((p.k, p.train.batch, p.train.epochs), (5, 32, 80));
    }

    #[test]
    fn auto_epochs_fall_with_the_samples_within_their_range() {
        assert_eq!(auto_epochs(10), AUTO_EPOCHS_SMALL);
        assert_eq!(auto_epochs(1_200), 15);
        assert_eq!(auto_epochs(3_000), AUTO_EPOCHS.1);
        assert_eq!(auto_epochs(AUTO_MANY), AUTO_EPOCHS.1);
        assert_eq!(auto_epochs(AUTO_MANY + 1), AUTO_EPOCHS.0);
        let o = Preset::Auto.options(1000, &[50]);
        o.train.validate().unwrap();
        let last = o.train.lr_at(o.train.epochs);
        assert!((last / o.train.lr - 0.1).abs() < 1e-9, "{last}");
    }
}
