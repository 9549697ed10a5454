#!/usr/bin/env bash
# Issue [8] item 3's short A/B (docs/eval/busbra64.md "Quality per image seen"): at 32², tiny preset, from
# scratch, equal images seen, one mask model, then the image model three ways (today's recipe,
# Min-SNR-5, left-right flips), each scored on fold 4 with the same seeds and segmenter.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
DATA=${DATA:-../../shared/datasets/busbra}
AB=${AB:-../runs/ab}
ITERS=${ITERS:-1000}
BF16=${BF16:---bf16}  # set BF16= on torch 1.13
common=(--data "$DATA" --preset tiny --resolution 32 --folds 1,2,3 --batch 16 --iters "$ITERS" --lr 2e-4 --ckpt-every 500
        --log-every 50 --threads 1 $BF16 --resume)
"$PYTHON" -m pigkit.train --model mask --out "$AB/base" "${common[@]}"
for arm in minsnr flip; do mkdir -p "$AB/$arm/mask"; cp "$AB/base/mask/ckpt.pt" "$AB/$arm/mask/ckpt.pt"; done
"$PYTHON" -m pigkit.train --model image --out "$AB/base" "${common[@]}"
"$PYTHON" -m pigkit.train --model image --out "$AB/minsnr" "${common[@]}" --min-snr 5
"$PYTHON" -m pigkit.train --model image --out "$AB/flip" "${common[@]}" --flip
[ -f "$AB/seg32/segmenter.pt" ] || "$PYTHON" -m pigkit.segment --data "$DATA" --resolution 32 --folds 1,2,3 --iters 500 --threads 1 --out "$AB/seg32"
for arm in base minsnr flip; do
  "$PYTHON" -m pigkit.evaluate --run "$AB/$arm" --data "$DATA" --out "$AB/eval-$arm" --n 256 --steps 50 --eta 1 --clip image \
    --batch 64 --segmenter "$AB/seg32/segmenter.pt" --threads 1 > "$AB/eval-$arm.json"
done
