#!/usr/bin/env bash
# The "Speed" table of training/README.md: training images/s of one preset under each option,
# every configuration a fresh process, run ROUNDS times (default 2) in interleaved order so the rounds see the same
# background load (compare within a round: ratios). PYTHON2 = a PyTorch 2.x interpreter, PYTHON1 =
# Debian's 1.13 (no bf16 autocast there). Prints one JSON line per measurement. torch.compile is not
# in the matrix: compiling even the tiny preset's step took over 400 s on this 2-core VM (README).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON2=${PYTHON2:-/work/venv-torch2/bin/python}
PYTHON1=${PYTHON1:-/usr/bin/python3}
PRESET=${PRESET:-compact}
RES=${RES:-64}
ITERS=${ITERS:-15}
run() {  # interpreter threads batch [flags...]
  local py=$1 threads=$2 batch=$3
  shift 3
  "$py" -m pigkit.bench --preset "$PRESET" --resolution "$RES" --batch "$batch" --threads "$threads" --iters "$ITERS" "$@" 2>/dev/null \
    | sed "s/^{/{\"round\": $round, /"
}
for round in $(seq 1 "${ROUNDS:-2}"); do
  for threads in 1 2; do
    run "$PYTHON2" "$threads" 8
    run "$PYTHON2" "$threads" 8 --bf16
    run "$PYTHON2" "$threads" 8 --channels-last
    run "$PYTHON2" "$threads" 8 --bf16 --channels-last
  done
  run "$PYTHON1" 1 8
  run "$PYTHON1" 1 8 --channels-last
  run "$PYTHON2" 1 16
  run "$PYTHON2" 1 16 --bf16 --channels-last
done
