#!/usr/bin/env bash
# busbra256 on a CPU: latent PIG at 256² (docs/method.md, "The loop in a learned latent space"),
# conditioned on pathology, BI-RADS and scanner; BUS-BRA folds 1-3 (fold 4 held out). Three
# networks, trained in sittings, each resuming from its last checkpoint (Adam state included):
#   STAGES=autoencoder   the image autoencoder (f = 4, C = 4) on random 128² crops of 256² slices
#   STAGES=mask          model_x on the latent grid (64²), on the autoencoder's latents (frozen)
#   STAGES=image         model_y, on a finished model_x
# Each stage adds up to MINUTES minutes. The first U-Net sitting freezes the autoencoder: it copies
# its checkpoint to OUT/frozen-autoencoder.pt, which both U-Nets train on from then on (its SHA-256
# is recorded; model_y refuses a model_x of other latents), so more autoencoder sittings after that
# do not change their latents: delete the frozen copy and the U-Nets' runs to start them afresh on
# a better autoencoder. PYTHON picks the interpreter (a PyTorch 2.x venv trains 2-3×
# faster than Debian's 1.13, training/README.md "Speed"); PACK (default ../packed/busbra256.npz,
# made on first use by pigkit.pack) holds the decoded slices so a sitting does not decode 1,875
# PNGs again; THREADS (default 1) per stage; TRAIN_ARGS adds pigkit.train flags to both U-Nets.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
DATA=${DATA:-../../shared/datasets/busbra}
PACK=${PACK:-../packed/busbra256.npz}
OUT=${OUT:-../runs/busbra256}
MINUTES=${MINUTES:-60}
THREADS=${THREADS:-1}
if [[ ! -f "$PACK" ]]; then
  mkdir -p "$(dirname "$PACK")"
  "$PYTHON" -m pigkit.pack --data "$DATA" --resolution 256 --out "$PACK"
fi
for stage in ${STAGES:-autoencoder mask image}; do
  if [[ "$stage" == autoencoder ]]; then
    "$PYTHON" -m pigkit.train_autoencoder --data "$PACK" --out "$OUT" --resolution 256 --crop 128 \
      --channels "${AE_CHANNELS:-16,32,64}" --latent-channels 4 --batch 8 --lr 2e-4 --warmup 200 \
      --max-minutes "$MINUTES" --threads "$THREADS" --log-every 50 --resume
  else
    [[ -f "$OUT/frozen-autoencoder.pt" ]] || cp "$OUT/autoencoder/ckpt.pt" "$OUT/frozen-autoencoder.pt"
    "$PYTHON" -m pigkit.train --model "$stage" --data "$PACK" --out "$OUT" --preset compact --resolution 256 \
      --autoencoder "$OUT/frozen-autoencoder.pt" --attributes "$DATA/bus_data.csv" --flip \
      --folds 1,2,3 --batch 8 --lr 2e-4 --iters "${ITERS:-200000}" --ckpt-every 200 --log-every 25 \
      --max-minutes "$MINUTES" --threads "$THREADS" --resume --warmup "${WARMUP:-500}" \
      $([[ "$stage" == mask ]] && echo --channels-last) ${TRAIN_ARGS:-}
  fi
done
