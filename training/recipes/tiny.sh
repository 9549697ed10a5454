#!/usr/bin/env bash
# The tiny test pair: a few minutes of training on BUS-BRA at 32², exported to public/models/tiny,
# its EMA weights kept in training/fixtures/tiny, and the golden fixture for the TypeScript sampler.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../../shared/datasets/busbra}
RUN=${RUN:-../runs/tiny}
for model in mask image; do
  /usr/bin/python3 -m pigkit.train --model "$model" --data "$DATA" --out "$RUN" --preset tiny --resolution 32 \
    --folds 1,2,3 --batch 16 --iters 600 --log-every 20 --ckpt-every 200 --max-minutes "${MINUTES_PER_MODEL:-4}" --threads 1 --resume
done
/usr/bin/python3 -m pigkit.export --run "$RUN" --out ../public/models/tiny --name tiny --steps 8 --data-card "${DATA_CARD:-datasets/busbra.json}" --weights-out fixtures/tiny
/usr/bin/python3 -m pigkit.golden --run fixtures/tiny --name tiny --seed 7 --steps 4 --out ../src/core/fixtures/tiny-golden.json
/usr/bin/python3 -m pigkit.golden --run fixtures/tiny --name tiny --seed 7 --steps 4 --eta 1 --clip both --out ../src/core/fixtures/tiny-golden-clip.json
