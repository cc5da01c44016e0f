//! The trained mapping G_W as one handle: the network with its configuration (architecture,
//! input preparation, training record), which saves, loads and embeds new samples.

use std::path::Path;

use burn::module::Module;
use burn::tensor::Device;

use crate::data::Dataset;
use crate::embed::{embed, embed_fast};
use crate::error::Result;
use crate::fast::{self, fast_net};
use crate::model::{load_model, save_model, ModelConfig, Net};

/// A trained mapping: the network and its configuration.
#[derive(Clone, Debug)]
pub struct Model {
    /// G_W.
    pub net: Net,
    /// Architecture, input specification and training record.
    pub config: ModelConfig,
}

impl Model {
    /// Loads a model directory onto `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let (net, config) = load_model(dir, device)?;
        Ok(Self { net, config })
    }

    /// Saves into a model directory (created if missing; files written atomically).
    pub fn save(&self, dir: &Path) -> Result<()> {
        save_model(dir, &self.net, &self.config)
    }

    /// Output dimension d.
    pub fn dim(&self) -> usize {
        self.config.architecture.dim()
    }

    /// Maps new samples (out of sample) to `data.n × d` output coordinates. Errors name
    /// `data.origin` (for instance when its shape differs from the training data's).
    pub fn embed(&self, data: &Dataset) -> Result<Vec<f32>> {
        let arch = &self.config.architecture;
        let inputs = self.config.input.prepare(arch, data)?;
        let net = self.net.valid();
        let device = net
            .devices()
            .into_iter()
            .next()
            .unwrap_or_else(Device::flex);
        if fast::serves(&device) {
            return Ok(embed_fast(fast_net(&net), &inputs, arch.input_dim()));
        }
        Ok(embed(&net, &inputs, arch.input_dim(), &device))
    }
}
