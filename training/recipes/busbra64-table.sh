#!/usr/bin/env bash
# Issue [9]'s downstream table on the default model users get (docs/eval/downstream.md; its
# headline in EVALUATION.md): pairs from the studio's CLI with the model folder's own sampler settings, then
# pigkit.downstream (standard segmentation U-Nets on real and real + generated pairs, fold 4).
#   PYTHON=/path/to/torch2/bin/python JOBS=1 bash training/recipes/busbra64-table.sh
# One command, resumable: the CLI keeps the pairs it has (--resume; one folder per model, named
# by its weights' sha256, since a folder never mixes two models), pigkit.downstream keeps every
# segmenter it has trained with the same settings and pairs (the `real` rows survive a new model).
# Run it again whenever public/models/busbra64 changes.
# ROWS: SET:MULTIPLE[:USE] after `real` (pigkit.downstream --rows); COUNT pairs are generated, enough
# for the largest multiple (1,127 real training pairs × MULTIPLE). SEG_ITERS: the `real` row's
# iterations; every row sees each real pair as often (--budget passes). DOWNSTREAM: the segmenters'
# folder (default TABLE/downstream); another one keeps a second budget beside the first, e.g. budget
# (b), trained longer: SEG_ITERS=2000 ROWS=pig:1:pretrain DOWNSTREAM=TABLE/downstream-2000.
# LR_SCHEDULE: the segmenters' learning rate, constant (the first tables) or poly (nnU-Net's decay).
# DOWNSTREAM_ARGS adds pigkit.downstream flags (e.g. "--train-patients 0.25": busbra64-lowdata.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
DATA=${DATA:-../../shared/datasets/busbra}
MODEL=$(realpath "${MODEL:-../public/models/busbra64}")
TABLE=$(realpath -m "${TABLE:-../runs/table64}")
ROWS=${ROWS:-pig:1,pig:1:filtered,pig:1:pretrain}
COUNT=${COUNT:-1127}
GEN_JOBS=${GEN_JOBS:-${JOBS:-1}}
# the weights files' sha256 where the manifest names them (the graphs' own change with the layout),
# else the self-contained graphs'
id=$("$PYTHON" -c 'import json, sys; m = json.load(open(sys.argv[1])); print("-".join(m["models"][k].get("weights", m["models"][k])["sha256"][:8] for k in ("mask", "image")))' "$MODEL/manifest.json")
PAIRS=$TABLE/pairs-$id
mkdir -p "$PAIRS"
for i in $(seq 0 $((GEN_JOBS - 1))); do
  ( cd .. && npm run -s generate -- --model "$MODEL" --seed 0 --count "$COUNT" --shard "$i/$GEN_JOBS" --threads 1 --resume \
      --out "$PAIRS" > "$TABLE/generate-$id-$i.log" ) &
done
wait
"$PYTHON" -m pigkit.downstream --data "$DATA" --pairs "$PAIRS" --resolution 64 --out "${DOWNSTREAM:-$TABLE/downstream}" --rows "$ROWS" \
  --seeds "${SEEDS:-0,1,2}" --seg-iters "${SEG_ITERS:-1000}" --eval-every "${EVAL_EVERY:-125}" --budget passes --segmenter unet --lr-schedule "${LR_SCHEDULE:-constant}" \
  --jobs "${JOBS:-1}" --threads 1 ${DOWNSTREAM_ARGS:-}
