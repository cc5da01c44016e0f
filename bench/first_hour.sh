#!/usr/bin/env bash
# A newcomer's wait: the README's two commands on a fresh clone with an empty target directory,
# timed one after the other (dependencies already downloaded into ~/.cargo, as after a first
# `cargo fetch`). Usage: bench/first_hour.sh [COMMIT]   (default: HEAD); prints the two times.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(mktemp -d)/drlim"
git clone -q "$repo" "$dir"
# the tests read ../shared (the MNIST digits), as CI's clone has it beside it
ln -s "$(cd "$repo/../shared" && pwd)" "$(dirname "$dir")/shared"
cd "$dir"
git checkout -q "${1:-HEAD}"
export CARGO_TARGET_DIR="$dir/target"
s=$(date +%s.%N)
cargo run --release -- demo > demo.log 2>&1
m=$(date +%s.%N)
cargo test --release --workspace > test.log 2>&1
e=$(date +%s.%N)
lscpu | grep -m1 "Model name"
echo "cargo run --release -- demo: $(echo "$m - $s" | bc) s; cargo test --release --workspace: $(echo "$e - $m" | bc) s; total $(echo "$e - $s" | bc) s ($dir)"
