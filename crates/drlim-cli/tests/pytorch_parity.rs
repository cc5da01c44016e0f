//! A saved conv model loads into the reference PyTorch `DrLIMNet` (../shared/peers) with
//! `load_state_dict` and gives the same outputs as `drlim embed` to 1e-4.
//!
//! Runs when the reference venv exists (`../shared/peers/setup.sh` makes it; `PEERS_VENV`
//! overrides its place); otherwise it is skipped with a message.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;

fn peers_python() -> Option<(PathBuf, PathBuf)> {
    let venv = std::env::var_os("PEERS_VENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/drlim-peers-venv"))
        })?;
    let py = venv.join("bin/python");
    let peers = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peers");
    (py.is_file() && peers.join("drlim_torch.py").is_file()).then_some((py, peers))
}

const SCRIPT: &str = r#"
import json, struct, sys
import numpy as np, torch
peers, model_dir, data, emb = sys.argv[1:5]
sys.path.insert(0, peers)
from drlim_torch import DrLIMNet, to_tensor32
raw = open(f"{model_dir}/model.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
state = {}
for name, t in header.items():
    if name == "__metadata__":
        continue
    a, b = t["data_offsets"]
    assert t["dtype"] == "F32", t
    state[name] = torch.from_numpy(np.frombuffer(raw[8 + n + a:8 + n + b], dtype="<f4").reshape(t["shape"]).copy())
net = DrLIMNet(out_dim=state["fc.bias"].shape[0])
net.load_state_dict(state, strict=True)
with torch.no_grad():
    out = net(to_tensor32(np.load(data))).numpy()
ours = np.load(emb)
assert out.shape == ours.shape, (out.shape, ours.shape)
print(float(np.abs(out - ours).max()))
"#;

#[test]
fn saved_conv_weights_give_the_same_outputs_in_pytorch() {
    let Some((py, peers)) = peers_python() else {
        eprintln!(
            "SKIPPED live pytorch parity of a trained model: no reference venv (run ../shared/peers/setup.sh to make it); parity on stored PyTorch outputs is checked by the engine's test model::io::tests::pytorch_reference_weights_give_the_reference_outputs"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_digits(d, "train", 80, 0);
    write_digits(d, "test", 50, 80);
    fit_train(d, 2, &[]);
    ok(
        d,
        &[
            "embed", "--model", "M", "--data", "test.npy", "--out", "E.npy", "--quiet",
        ],
    );
    let out = Command::new(py)
        .arg("-c")
        .arg(SCRIPT)
        .args([
            peers.as_os_str(),
            d.join("M").as_os_str(),
            d.join("test.npy").as_os_str(),
            d.join("E.npy").as_os_str(),
        ])
        .env("OMP_WAIT_POLICY", "PASSIVE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let diff: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert!(diff < 1e-4, "max |PyTorch − drlim| = {diff}");
    eprintln!("pytorch parity: max |PyTorch − drlim| = {diff:e}");
}
