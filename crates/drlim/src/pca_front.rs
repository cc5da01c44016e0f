//! The PCA front of [`fit`](crate::fit): where [`FitOptions::pca`] asks for fewer components
//! than the samples have values, an MLP's first layer is trained on the samples' coordinates
//! along their top principal directions ([`Projection`]), and the directions are folded into
//! that layer afterwards. Every model that leaves `fit` (the fitted one, and those an observer
//! sees after each epoch) is therefore a plain MLP over the full samples: saved, embedded and
//! exported to ONNX as any other. Only a checkpoint for resuming keeps the narrow network,
//! which [`fit_resume`](crate::fit_resume) continues after computing the same directions again.

use std::ops::ControlFlow;

use crate::data::{sample_indices, Dataset, Projection};
use crate::fit::FitOptions;
use crate::mapping::Model;
use crate::model::{Architecture, ModelConfig, Net};
use crate::neighbours::NeighbourGraph;
use crate::pairs::PairCounts;
use crate::train::{Checkpoint, EpochReport, TrainObserver, Trained};

/// The projection a fit trains through, if any.
pub(crate) struct Front {
    projection: Option<(Projection, Architecture)>,
}

impl Front {
    /// The network's training rows for `data` as `template.input` prepares them, a block of
    /// samples at a time; projected on the principal directions, with `template`'s first
    /// layer narrowed, when the PCA front applies ([`FitOptions::front_components`]). Only
    /// the rows the network trains on are kept whole: 30 coordinates per sample through the
    /// front, where the normalised samples would take 784 floats per digit.
    pub fn new(
        template: &mut ModelConfig,
        data: &Dataset,
        options: &FitOptions,
    ) -> (Self, Vec<f32>) {
        let arch = template.architecture.clone();
        let Architecture::Mlp {
            input_dim,
            hidden,
            dim,
        } = arch.clone()
        else {
            return (
                Front { projection: None },
                network_rows(template, &arch, data, None),
            );
        };
        let Some(components) = options.front_components(input_dim) else {
            return (
                Front { projection: None },
                network_rows(template, &arch, data, None),
            );
        };
        let threads = rayon::current_num_threads();
        let seed = options.train.seed;
        let sample = match sample_indices(data.n, seed) {
            None => template.input.normalised(data),
            Some(picked) => {
                let mut row = Vec::new();
                let mut sample = Vec::with_capacity(picked.len() * input_dim);
                for i in picked {
                    template.input.normalised_into(data, i, i + 1, &mut row);
                    sample.extend_from_slice(&row);
                }
                sample
            }
        };
        let projection = Projection::fit_sample(sample, input_dim, components, seed, threads);
        let projected = network_rows(template, &arch, data, Some((&projection, threads)));
        let full = template.architecture.clone();
        template.architecture = Architecture::Mlp {
            input_dim: projection.components,
            hidden,
            dim,
        };
        if let Some(t) = template.training.as_object_mut() {
            t.insert("pca_components".into(), projection.components.into());
        }
        let front = Front {
            projection: Some((projection, full)),
        };
        (front, projected)
    }

    /// `model` over the full samples: its first layer with the directions folded in.
    pub fn model(&self, model: &Model) -> Model {
        let Some((projection, full)) = &self.projection else {
            return model.clone();
        };
        let device = model.device();
        let mut weights: std::collections::HashMap<String, Vec<f32>> = model
            .net
            .weights()
            .into_iter()
            .map(|(name, shape, values)| {
                let values = if name == "layers.0.weight" {
                    projection.fold(&values, shape[0])
                } else {
                    values
                };
                (name, values)
            })
            .collect();
        let net = Net::from_weights(full, &device, |name| {
            weights.remove(name).expect("every weight of the same MLP")
        });
        let mut config: ModelConfig = model.config.clone();
        config.architecture = full.clone();
        Model { net, config }
    }

    /// The fitted outcome with its model over the full samples (its checkpoint stays narrow).
    pub fn trained(&self, mut trained: Trained) -> Trained {
        trained.model = self.model(&trained.model);
        trained
    }

    /// `inner`, seeing every model over the full samples.
    pub fn observer<'a>(&'a self, inner: &'a mut dyn TrainObserver) -> Folding<'a> {
        Folding { front: self, inner }
    }
}

/// Samples per block while the training rows are made.
const BLOCK_ROWS: usize = 8192;

/// The network's rows for all of `data`, made a block at a time: normalised (and padded for
/// the convnet), or projected by `projection`.
fn network_rows(
    template: &ModelConfig,
    arch: &Architecture,
    data: &Dataset,
    projection: Option<(&Projection, usize)>,
) -> Vec<f32> {
    let mut out = Vec::new();
    let mut block = Vec::new();
    for start in (0..data.n).step_by(BLOCK_ROWS) {
        let end = (start + BLOCK_ROWS).min(data.n);
        template.input.normalised_into(data, start, end, &mut block);
        match projection {
            Some((p, threads)) => out.extend(p.project(&block, threads)),
            None => out.extend(
                template
                    .input
                    .rows(arch, std::mem::take(&mut block), end - start),
            ),
        }
    }
    out
}

/// An observer passing everything on, each epoch's model folded ([`Front::model`]).
pub(crate) struct Folding<'a> {
    front: &'a Front,
    inner: &'a mut dyn TrainObserver,
}

impl TrainObserver for Folding<'_> {
    fn on_graph(&mut self, pairs: usize, source: &str, seconds: f64) {
        self.inner.on_graph(pairs, source, seconds)
    }
    fn on_pairs(&mut self, counts: &PairCounts) {
        self.inner.on_pairs(counts)
    }
    fn on_start(&mut self, epochs: usize, pairs_per_epoch: usize) {
        self.inner.on_start(epochs, pairs_per_epoch)
    }
    fn on_progress(
        &mut self,
        epoch: usize,
        done: usize,
        total: usize,
        loss: f32,
    ) -> ControlFlow<()> {
        self.inner.on_progress(epoch, done, total, loss)
    }
    fn on_epoch(&mut self, report: &EpochReport, model: &Model) -> ControlFlow<()> {
        if self.front.projection.is_none() {
            return self.inner.on_epoch(report, model);
        }
        self.inner.on_epoch(report, &self.front.model(model))
    }
    fn on_checkpoint(&mut self, checkpoint: &Checkpoint, graph: &NeighbourGraph) {
        self.inner.on_checkpoint(checkpoint, graph)
    }
}
