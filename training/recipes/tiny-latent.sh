#!/usr/bin/env bash
# The tiny latent test pair (manifest format 2, docs/contracts.md §6): an autoencoder (f = 4, C = 4)
# and two tiny U-Nets on its 16² grid for 64² slices of BUS-BRA, conditioned on pathology, BI-RADS
# and scanner, a few minutes in all; exported to public/models/tiny-latent, its weights kept in
# training/fixtures/tiny-latent (the autoencoder's too), and the golden fixture for the TypeScript sampler.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../../shared/datasets/busbra}
RUN=${RUN:-../runs/tiny-latent}
PYTHON=${PYTHON:-/usr/bin/python3}
FIX=fixtures/tiny-latent
"$PYTHON" -m pigkit.train_autoencoder --data "$DATA" --out "$RUN" --resolution 64 --crop 32 --channels 8,16,16 \
  --latent-channels 4 --batch 16 --iters 1500 --log-every 100 --max-minutes "${AE_MINUTES:-3}" --threads 1 --resume
for model in mask image; do
  "$PYTHON" -m pigkit.train --model "$model" --data "$DATA" --out "$RUN" --preset tiny --resolution 64 \
    --autoencoder "$RUN/autoencoder/ckpt.pt" --attributes "$DATA/bus_data.csv" --flip \
    --folds 1,2,3 --batch 16 --iters 600 --log-every 20 --ckpt-every 200 --max-minutes "${MINUTES_PER_MODEL:-3}" --threads 1 --resume
done
"$PYTHON" -m pigkit.export_latent --run "$RUN" --out ../public/models/tiny-latent --name tiny-latent --steps 8 \
  --data "$DATA" --data-card "${DATA_CARD:-datasets/busbra.json}" --weights-out "$FIX"
"$PYTHON" -m pigkit.golden --format2 --run "$FIX" --name tiny-latent --seed 7 --steps 4 --attr pathology=malignant \
  --guidance 2 --autoencoder "$FIX/autoencoder/ckpt.pt" --out ../src/core/fixtures/tiny-latent-golden.json
