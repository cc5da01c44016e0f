#!/usr/bin/env bash
# How fitting and embedding grow with n: `drlim fit --timings` (the paper's convnet, 5-NN with
# --knn auto, EPOCHS epochs, 2 threads) on N transformed built-in digits
# (`drlim render digits`: shift=2,rotate=10,elastic=1 copies), for each N given; then, at the
# largest N, fit on a 100,000 sample (--fit-sample) and embed all N. Prints each run's stage
# table and /usr/bin/time's wall time and peak RSS.
#
#   bench/scale.sh [WORKDIR] [N...]      (defaults: /tmp/drlim-scale, 10000 100000 1000000)
#   EPOCHS=1 THREADS=2 bench/scale.sh
#
# 1,000,000 digits take 784 MB on disk (u8) and about 12 GB of memory to fit.
set -euo pipefail
cd "$(dirname "$0")/.."
drlim=$PWD/target/release/drlim
work=${1:-/tmp/drlim-scale}
shift || true
sizes=("${@:-10000 100000 1000000}")
read -r -a sizes <<<"${sizes[*]}"
epochs=${EPOCHS:-1}
threads=${THREADS:-2}
cargo build --release -q -p drlim-cli
mkdir -p "$work"
cd "$work"
echo "# $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u +%F)"
run() {
    echo "== drlim $*"
    /usr/bin/time -f "wall %e s, peak RSS %M KB" "$drlim" --threads "$threads" "$@" 2>&1 |
        grep -E "^(neighbours|pairs per|epoch|timings|  |wall|--fit-sample|data)"
}
for n in "${sizes[@]}"; do
    [ -f "d$n/images.npy" ] || "$drlim" render digits --n "$n" --out "d$n" >/dev/null
    run fit --data "d$n/images.npy" --net conv --epochs "$epochs" --model-out "m$n" \
        --embedding-out "e$n.npy" --checkpoint-every 0 --timings
done
last=${sizes[-1]}
if [ "$last" -gt 100000 ]; then
    run fit --data "d$last/images.npy" --net conv --epochs "$epochs" --fit-sample 100000 \
        --model-out "s$last" --embedding-out "s$last.npy" --checkpoint-every 0 --timings
    run embed --model "s$last" --data "d$last/images.npy" --out "t$last.npy"
fi
