#!/usr/bin/env bash
# The studio's default pair on a CPU: BUS-BRA folds 1-3 (fold 4 held out), 64², `compact` preset.
# Trains in sittings: each call adds up to MINUTES_PER_MODEL minutes to each model, resuming from
# the last checkpoint. model_y trains on whatever model_x checkpoint exists, so finish model_x
# first (MODELS=mask), then run MODELS=image. INIT_FROM=../public/models/busbra64 starts a run that has no
# checkpoint yet from the shipped pair's weights (to train it further after its checkpoints are gone).
# PYTHON picks the interpreter (default Debian's torch 1.13; a PyTorch 2.x one trains 2× faster on
# this CPU, training/README.md "Speed"). WARMUP (iterations, default 500) ramps the learning rate up
# when a run starts without its optimizer state (INIT_FROM). BF16_MODELS lists the models trained
# with bfloat16 autocast (default "image": 2.5× faster on its objective on AVX-512 BF16, the same loss; the mask
# model's loss is 4.5% higher in bf16, so it stays float32). MIN_SNR_MODELS lists the models trained
# with Min-SNR-5 loss weights (default "image": the 2026-12-02 A/B in docs/eval/busbra64.md). CHANNELS_LAST_MODELS
# lists the models trained in channels-last memory format (default "mask": 1.14× its iterations in float32,
# the same losses, measured side by side on 2026-12-03; the image model trains in bf16). TRAIN_ARGS adds
# pigkit.train flags to both models (e.g. "--patients 0.25": busbra64-lowdata.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
DATA=${DATA:-../../shared/datasets/busbra}
OUT=${OUT:-../runs/busbra64}
for model in ${MODELS:-mask image}; do
  "$PYTHON" -m pigkit.train --model "$model" --data "$DATA" --out "$OUT" --preset compact --resolution 64 \
    --folds 1,2,3 --batch 8 --lr 2e-4 --iters "${ITERS:-100000}" --ckpt-every 200 --log-every 25 \
    --max-minutes "${MINUTES_PER_MODEL:-45}" --threads "${THREADS:-1}" --resume ${INIT_FROM:+--init-from "$INIT_FROM"} \
    --warmup "${WARMUP:-500}" $([[ " ${BF16_MODELS-image} " == *" $model "* ]] && echo --bf16) \
    $([[ " ${MIN_SNR_MODELS-image} " == *" $model "* ]] && echo --min-snr 5) \
    $([[ " ${CHANNELS_LAST_MODELS-mask} " == *" $model "* ]] && echo --channels-last) ${TRAIN_ARGS:-}
done
