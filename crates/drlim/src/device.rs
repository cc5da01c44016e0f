//! Choosing the compute device at the edge: burn's pure-Rust CPU backend (flex) by default, a
//! Vulkan GPU with the `vulkan` cargo feature. The engine itself takes any [`Device`].

use burn::tensor::Device;

use crate::error::{Error, Result};

/// The device named `name`: `cpu`, or `vulkan` when drlim was built with the `vulkan` feature.
/// On the CPU, training with SGD and embedding use drlim's fast path; on a GPU, burn's generic
/// path.
pub fn device(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(Device::flex()),
        #[cfg(feature = "vulkan")]
        "vulkan" => Ok(Device::vulkan(burn::tensor::DeviceKind::default())),
        #[cfg(not(feature = "vulkan"))]
        "vulkan" => Err(Error::param(
            "the vulkan device needs drlim built with its `vulkan` feature (cargo build --release --features vulkan)",
        )),
        other => Err(Error::param(format!("unknown device '{other}' (cpu or vulkan)"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_flex_and_unknown_names_are_errors() {
        assert!(device("cpu").unwrap() == Device::flex());
        assert!(device("tpu")
            .unwrap_err()
            .to_string()
            .contains("unknown device 'tpu'"));
        #[cfg(not(feature = "vulkan"))]
        assert!(device("vulkan")
            .unwrap_err()
            .to_string()
            .contains("`vulkan` feature"));
    }
}
