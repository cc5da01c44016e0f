#!/usr/bin/env bash
# drlim's NN-descent graph against pynndescent's (UMAP's) on the same samples, alternating
# rounds so that both see the same machine: build time, recall@k over 2,000 random samples
# against exact search, and drlim's peak memory. pynndescent is timed after its numba
# compilation by ../shared/peers/knn_graph_peer.py, in the venv that ../shared/peers/setup.sh makes.
# Usage: bench/graph_peer.sh FILE.npy "5 15" [ROUNDS=3] [PYTHON=python3]
set -euo pipefail
file=$1; ks=$2; rounds=${3:-3}; py=${4:-python3}
repo="$(cd "$(dirname "$0")/.." && pwd)"
lscpu | grep -m1 "Model name"
for k in $ks; do
  for r in $(seq "$rounds"); do
    "$repo/target/release/drlim" bench --net none --knn-data "$file" --k "$k" | grep "drlim nndescent"
    (cd "$repo/../shared/peers" && "$py" knn_graph_peer.py "$file" "$k")
  done
done
