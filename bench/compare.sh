#!/usr/bin/env bash
# Side-by-side throughput of drlim and the reference PyTorch DrLIM on this machine.
# Runs both benches alternately for several rounds and prints, per configuration, the median
# pairs/s (training) and images/s (inference) of each and the median ratio drlim / PyTorch.
#
#   bench/compare.sh [ROUNDS] [SECONDS]      (defaults: 3 rounds, 5 s per measurement)
#
# Needs ../shared/peers (the reference) beside the repository; makes its venv if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
seconds=${2:-5}
threads=${THREADS:-$(nproc)}
peers=../shared/peers
py=$("$peers/setup.sh")
cargo build --release -q -p drlim-cli
drlim=target/release/drlim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; threads=$threads"
echo "drlim: $($drlim --version); torch: $($py -c 'import torch; print(torch.__version__)')"
for r in $(seq 1 "$rounds"); do
    for net in conv mlp; do
        RAYON_NUM_THREADS=$threads $drlim bench --net "$net" --seconds "$seconds" >>"$out/drlim.txt"
        OMP_WAIT_POLICY=PASSIVE $py "$peers/drlim_torch.py" bench --net "$net" --threads "$threads" \
            --seconds "$seconds" >>"$out/torch.txt"
    done
    echo "round $r/$rounds done" >&2
done
"$py" - "$out/drlim.txt" "$out/torch.txt" <<'PY'
import re, statistics, sys
def parse(path):
    rows = {}
    for line in open(path):
        m = re.match(r"(\w+) (conv|mlp) batch=(\d+) train_pairs_per_s=(\d+) infer_img_per_s=(\d+)", line)
        if m:
            rows.setdefault((m[2], int(m[3])), []).append((float(m[4]), float(m[5])))
    return rows
d, t = parse(sys.argv[1]), parse(sys.argv[2])
print(f"{'net':4} {'batch':>5} | {'drlim train':>11} {'torch train':>11} {'ratio':>6} | {'drlim infer':>11} {'torch infer':>11} {'ratio':>6}")
for key in sorted(d):
    if key not in t:
        continue
    n = min(len(d[key]), len(t[key]))
    tr = [d[key][i][0] / t[key][i][0] for i in range(n)]
    inf = [d[key][i][1] / t[key][i][1] for i in range(n)]
    med = lambda xs: statistics.median(xs)
    print(f"{key[0]:4} {key[1]:>5} | {med([x[0] for x in d[key]]):>11.0f} {med([x[0] for x in t[key]]):>11.0f} {med(tr):>6.2f} | "
          f"{med([x[1] for x in d[key]]):>11.0f} {med([x[1] for x in t[key]]):>11.0f} {med(inf):>6.2f}")
PY
