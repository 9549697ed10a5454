#!/usr/bin/env bash
# Export the default pair to public/models/busbra64 and measure it (EVALUATION.md):
# N pairs (default 512) from the studio's own sampler (Node CLI on onnxruntime-node, two shards,
# one core each) at the sampler defaults ETA and CLIP it exports, then image and mask statistics,
# empty-mask rate and pair consistency against held-out fold 4. Pairs already generated for the
# same model and settings in EVAL/generated are kept (the CLI's --resume). MODEL_OUT (default
# ../public/models/busbra64) is where the pair is exported: point it elsewhere to score a candidate
# against the shipped figures before shipping it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
DATA=${DATA:-../../shared/datasets/busbra}
RUN=${RUN:-../runs/busbra64}
EVAL=$(realpath -m "${EVAL:-../runs/eval-busbra64}")
STEPS=${STEPS:-50}
N=${N:-512}
ETA=${ETA:-1}
CLIP=${CLIP:-both}
SEG=${SEG:-../runs/seg64}
MODEL_OUT=$(realpath -m "${MODEL_OUT:-../public/models/busbra64}")
# the pair-consistency segmenter (folds 1-3), trained once and reused
[ -f "$SEG/segmenter.pt" ] || "$PYTHON" -m pigkit.segment --data "$DATA" --resolution 64 --folds 1,2,3 --iters 1000 --threads 2 --out "$SEG"
"$PYTHON" -m pigkit.export --run "$RUN" --out "$MODEL_OUT" --name busbra64 --steps "$STEPS" --eta "$ETA" --clip "$CLIP" --data-card datasets/busbra.json
mkdir -p "$EVAL/generated"
# two shards of seeds 0 … N-1 into one nnU-Net raw dataset folder, one core each
for i in 0 1; do
  ( cd .. && npm run -s generate -- --model "$MODEL_OUT" --seed 0 --count "$N" --shard "$i/2" --steps "$STEPS" --eta "$ETA" --clip "$CLIP" --threads 1 --resume --out "$EVAL/generated" > "$EVAL/generate-$i.log" ) &
done
wait
"$PYTHON" -m pigkit.evaluate --run "$RUN" --data "$DATA" --out "$EVAL" --steps "$STEPS" --eta "$ETA" --clip "$CLIP" \
  --generated "$EVAL/generated" --segmenter "$SEG/segmenter.pt" --threads 2
# put the figures into the model card (the ONNX files and their sha256 do not change)
"$PYTHON" -m pigkit.export --run "$RUN" --out "$MODEL_OUT" --name busbra64 --steps "$STEPS" --eta "$ETA" --clip "$CLIP" --data-card datasets/busbra.json --card "$EVAL/card.json"
