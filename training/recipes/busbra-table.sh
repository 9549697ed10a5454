#!/usr/bin/env bash
# The 32² downstream table (docs/eval/downstream-32.md, issue 8): train the four models on BUS-BRA folds 1-3, then
# pigkit.downstream (segmenters on real and real + generated pairs, image→mask, Fréchet distances).
#   GPU:  DEVICE=cuda PARALLEL=1 PRESET=paper RES=128 ITERS=40000 bash training/recipes/busbra-table.sh
#   CPU:  PARALLEL=1 JOBS=2 THREADS=1 PRESET=tiny RES=32 ITERS=4000 SEG_ITERS=1000 ETA=1 bash training/recipes/busbra-table.sh
#         (docs/eval/downstream-32.md's table, on 2 cores; state the resolution)
# JOBS segmenters train at once (one process each); ETA is the DDIM η of every generated set (paper: 0).
# Every step resumes: the training runs from their checkpoints (--resume), the table from what
# pigkit.downstream has already written; MINUTES caps each model's sitting.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
DATA=${DATA:-../../shared/datasets/busbra}
RUN=${RUN:-../runs/table-${PRESET:-tiny}${RES:-32}}
DEVICE=${DEVICE:-cpu}
common=(--data "$DATA" --preset "${PRESET:-tiny}" --resolution "${RES:-32}" --folds 1,2,3 --batch "${BATCH:-16}"
        --lr 2e-4 --iters "${ITERS:-6000}" --ckpt-every 500 --device "$DEVICE" --max-minutes "${MINUTES:-0}" --resume
        --threads "${THREADS:-0}")
# PARALLEL=1 trains two models at a time (a GPU that one small model leaves idle): the mask model
# beside the unconditional one, then both image models, which need the finished mask model
pids=()
bg() { if [ "${PARALLEL:-0}" = 1 ]; then "$@" & pids+=($!); else "$@"; fi; }
join() { for p in "${pids[@]}"; do wait "$p"; done; pids=(); }  # a failed training stops the recipe
bg "$PYTHON" -m pigkit.train --model mask   --out "$RUN" "${common[@]}"
bg "$PYTHON" -m pigkit.train --model uncond --out "$RUN" "${common[@]}"
join
bg "$PYTHON" -m pigkit.train --model image  --out "$RUN" "${common[@]}"
bg "$PYTHON" -m pigkit.train --model image  --out "$RUN/siamese" --siamese --mask-ckpt "$RUN/mask/ckpt.pt" "${common[@]}"
join
"$PYTHON" -m pigkit.downstream --data "$DATA" --run "$RUN" --out "$RUN/downstream" --device "$DEVICE" \
  --seeds "${SEEDS:-0,1,2}" --seg-iters "${SEG_ITERS:-4000}" --steps "${STEPS:-50}" --eta "${ETA:-0}" \
  --jobs "${JOBS:-1}" --gen-batch "${GEN_BATCH:-64}" --threads "${THREADS:-0}" \
  --segmenter "${SEGMENTER:-diffusion}" --budget "${BUDGET:-iters}"  # the 32² table of 2026-12-01 (busbra64-table.sh: the 64² one)
