#!/usr/bin/env bash
# Score a busbra256 sitting on held-out fold 4 (issue [14]'s targets), as a candidate first:
#   1. export the run (pigkit.export_latent) to MODEL_OUT (default ../runs/busbra256-candidate; point it at
#      ../public/models/busbra256 only to ship a candidate that improved on the shipped figures);
#   2. with the studio's own sampler (the Node CLI on onnxruntime-node, SHARDS shards, one core each):
#      N pairs asking for no attribute (the realism figures: they are compared with fold 4 as it is)
#      and N_BALANCED pairs with pathology balanced (the fidelity figures: benign and malignant in equal numbers);
#   3. pigkit.evaluate of each set at 256² against fold 4: mask and intensity statistics, empty masks,
#      texture (power spectrum ratio), pair consistency with the segmenter SEG (trained once, reused) at
#      SEG_RES² (default 128: on one CPU thread a 256² segmenter trains at > 15 s an iteration under
#      load, 128² about 4× faster; the pairs and fold 4 are pooled to it alike), and on the balanced
#      set the pathology fidelity and the mask shape per class.
# Pairs already generated for the same model and settings are kept (the CLI's --resume), so a stopped
# evaluation goes on where it stopped. The results: EVAL/{realism,balanced}/results.{json,md}, samples.png.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
DATA=${DATA:-../../shared/datasets/busbra}
PACK=${PACK:-../packed/busbra256.npz}
RUN=${RUN:-../runs/busbra256}
EVAL=$(realpath -m "${EVAL:-../runs/eval-busbra256}")
MODEL_OUT=$(realpath -m "${MODEL_OUT:-../runs/busbra256-candidate}")
SEG=${SEG:-../runs/seg128}
SEG_RES=${SEG_RES:-128}
SEG_PACK=${SEG_PACK:-../packed/busbra$SEG_RES.npz}
STEPS=${STEPS:-50}
ETA=${ETA:-1}
N=${N:-512}
N_BALANCED=${N_BALANCED:-256}
SHARDS=${SHARDS:-2}
SEG_ITERS=${SEG_ITERS:-800}
"$PYTHON" -m pigkit.export_latent --run "$RUN" --out "$MODEL_OUT" --name busbra256 --steps "$STEPS" --eta "$ETA" \
  --data "$PACK" --data-card datasets/busbra.json
generate() {  # generate SET FIRST_SEED COUNT [CLI flags]: SHARDS shards into EVAL/SET/generated
  local set=$1 seed=$2 count=$3
  shift 3
  mkdir -p "$EVAL/$set/generated"
  for ((i = 0; i < SHARDS; i++)); do
    (cd .. && node bin/pig-generate.mjs --model "$MODEL_OUT" --seed "$seed" --count "$count" --shard "$i/$SHARDS" \
      --steps "$STEPS" --eta "$ETA" --threads 1 --resume --out "$EVAL/$set/generated" "$@" > "$EVAL/$set/generate-$i.log") &
  done
  wait
}
generate realism 0 "$N"
generate balanced 100000 "$N_BALANCED" --balance pathology
# the pair-consistency segmenter (the standard U-Net on folds 1-3 at SEG_RES²), trained once and reused
[ -f "$SEG_PACK" ] || "$PYTHON" -m pigkit.pack --data "$DATA" --resolution "$SEG_RES" --out "$SEG_PACK"
[ -f "$SEG/segmenter.pt" ] || "$PYTHON" -m pigkit.segment --data "$SEG_PACK" --resolution "$SEG_RES" --folds 1,2,3 \
  --arch unet --batch 16 --iters "$SEG_ITERS" --threads 1 --out "$SEG"
for set in realism balanced; do
  "$PYTHON" -m pigkit.evaluate --run "$RUN" --data "$PACK" --out "$EVAL/$set" --steps "$STEPS" --eta "$ETA" \
    --generated "$EVAL/$set/generated" --segmenter "$SEG/segmenter.pt" --segmenter-resolution "$SEG_RES" --attributes "$DATA/bus_data.csv" --threads 1 \
    > "$EVAL/$set/stdout.json"
done
echo "busbra256-evaluate: $EVAL/realism/results.md and $EVAL/balanced/results.md"
