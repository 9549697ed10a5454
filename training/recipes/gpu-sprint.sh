#!/usr/bin/env bash
# The GPU sprint (issue 8, item 5): both U-Nets of the `paper` preset at 128² on BUS-BRA folds 1-3
# and their evaluation on fold 4, in ONE device call of at most 9 minutes; what it leaves in $OUT
# is enough to export the pair here. training/README.md "GPU sprint" gives the three steps:
#   1. here (in training/): /usr/bin/python3 -m pigkit.pack --data ../../shared/datasets/busbra --resolution 128 --out ../packed/busbra128.npz
#   2. device: OUT=$OUT bash training/recipes/gpu-sprint.sh   (from the repository root, packed/busbra128.npz carried)
#   3. here:   pigkit.export --run FETCHED/run --card FETCHED/card.json ...
# The same script at a CPU's size (a rehearsal; the tests run it at 16²), after packing at 32²; with
# Debian's torch 1.13 add BF16= (its CPU autocast cannot run the U-Net in bfloat16):
#   OUT=/tmp/sprint DEVICE=cpu PRESET=tiny RES=32 BATCH=16 MASK_MINUTES=1 IMAGE_MINUTES=1 N=64 \
#     SEG_ITERS=300 EVAL_BATCH=64 THREADS=1 bash training/recipes/gpu-sprint.sh
#
# Stages: the evaluation segmenter (pigkit.segment, in the background while model_x trains);
# model_x (--model mask) for MASK_MINUTES; model_y (--model image, on the frozen model_x) for
# IMAGE_MINUTES or what the deadline leaves (TOTAL_MINUTES from the start less RESERVE_S seconds for
# what follows), each with bfloat16 autocast (BF16 lists the models; on a CPU the mask model's loss
# was 4.5% higher in bf16, busbra64-cpu.sh); each model's EMA weights in float16 (pigkit.pack
# --checkpoint) into $OUT as soon as it is trained; pigkit.evaluate of that float16 pair on fold 4
# (N pairs from its PyTorch batched sampler, STEPS DDIM steps, η = ETA, default 1: the shipped
# busbra64's). $OUT then holds 8 files (the device tool brings back at most 8, 16 MiB each, two
# folders deep):
#   run/mask/ckpt.pt, run/image/ckpt.pt   float16 EMA weights, config and counters (pigkit.export --run)
#   results.json, results.md, samples.png, card.json   pigkit.evaluate's (card.json: pigkit.export --card)
#   logs.tar.gz   run/{mask,image}/{log.csv,loss.png,config.json}, segmenter/, eval/ (unpack beside run/)
#   sprint.log    all that was printed; its last line is a one-line summary
# The full checkpoints (Adam state, for --resume) stay in WORK on the machine. The exit status is
# non-zero when a stage failed or $OUT broke those limits; the stages a failure does not block still run.
#
# Latent models (busbra256, issue [14]): AUTOENCODER names the frozen autoencoder the U-Nets train on
# (runs/busbra256/frozen-autoencoder.pt; its latents are the ones the CPU sittings use), ATTRIBUTES the
# attribute table (bus_data.csv), RES the slices' size (256; the U-Nets then work on the 64² latent
# grid, every slice and its mirror image, as recipes/busbra256-cpu.sh). The pack holds folds 1-3 only
# (pigkit.pack --folds 1,2,3: 52 MB at 256², so it and the autoencoder fit the device's 64 MiB). There
# is no segmenter and no evaluation on the device: a latent pair is scored on the studio's own sampler,
# here, after the export (recipes/busbra256-evaluate.sh); $OUT holds the two float16 checkpoints,
# logs.tar.gz and sprint.log. Rehearsed on a CPU by training/tests/test_gpu_sprint.py at 32².
#   device: OUT=$OUT PRESET=compact RES=256 BATCH=128 AUTOENCODER=packed/frozen-autoencoder.pt \
#             ATTRIBUTES=packed/bus_data.csv DATA=packed/busbra256-train.npz bash training/recipes/gpu-sprint.sh
#   here:   pigkit.export_latent --run FETCHED/run --autoencoder runs/busbra256/frozen-autoencoder.pt --data PACK ...
set -uo pipefail
: "${OUT:?set OUT to the (empty) folder for what comes back}"
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd) || exit 2
TRAINING=$(cd "$(dirname "$0")/.." && pwd)
# the interpreter with torch: python3 where it has it (the device machine), else Debian's
PYTHON=${PYTHON:-$(python3 -c 'import importlib.util as u, sys; sys.exit(u.find_spec("torch") is None)' 2>/dev/null \
  && echo python3 || echo /usr/bin/python3)}
PRESET=${PRESET:-paper}
RES=${RES:-128}
# BATCH: not measured on the GPU yet. At 128² the paper U-Net (6.9 M parameters) costs about
# 23.5 GFLOP per image and iteration and saves about 70 MiB of bf16 activations per image (both
# counted on the CPU): 256 holds about 18 GiB of the H200's 139 and leaves 4 optimizer steps per
# epoch of folds 1-3 (1127 pairs); larger batches fit but take fewer steps in the same minutes.
BATCH=${BATCH:-256}
LR=${LR:-2e-4}
WARMUP=${WARMUP:-100}
ITERS=${ITERS:-1000000}  # the minutes end the training, not this
MASK_MINUTES=${MASK_MINUTES:-3}
IMAGE_MINUTES=${IMAGE_MINUTES:-4}
TOTAL_MINUTES=${TOTAL_MINUTES:-9}  # 0: no deadline
RESERVE_S=${RESERVE_S:-90}  # after model_y: float16 copy, evaluation, logs
BF16=${BF16-mask image}
TRAIN_FLAGS=${TRAIN_FLAGS:-}  # more pigkit.train options for both models, e.g. "--channels-last --flip" (not tried on the GPU)
AUTOENCODER=${AUTOENCODER:-}  # a latent pair: the frozen autoencoder (see above); no evaluation here then
ATTRIBUTES=${ATTRIBUTES:-}
[ -n "$AUTOENCODER" ] && AUTOENCODER=$(realpath -m "$AUTOENCODER") && TRAIN_FLAGS="$TRAIN_FLAGS --autoencoder $AUTOENCODER --flip"
[ -n "$ATTRIBUTES" ] && ATTRIBUTES=$(realpath -m "$ATTRIBUTES") && TRAIN_FLAGS="$TRAIN_FLAGS --attributes $ATTRIBUTES"
N=${N:-512}
STEPS=${STEPS:-50}
ETA=${ETA:-1}
CLIP=${CLIP:-both}  # pigkit.evaluate --clip (none, image, both): the shipped busbra64's
EVAL_BATCH=${EVAL_BATCH:-256}
SEG_ITERS=${SEG_ITERS:-1500}
THREADS=${THREADS:-0}
CKPT_EVERY=${CKPT_EVERY:-1000}
LOG_EVERY=${LOG_EVERY:-25}
DEVICE=${DEVICE:-$("$PYTHON" -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')}
DATA=$(realpath -m "${DATA:-$TRAINING/../packed/busbra$RES.npz}")
WORK=$(realpath -m "${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/gpu-sprint.XXXXXX")}")
cd "$TRAINING" || exit 2
export PYTHONUNBUFFERED=1

failed=()
stage() {  # stage NAME COMMAND...: run it, time it, remember a failure
  local name=$1 t0=$SECONDS rc
  shift
  echo "== $name: $*"
  "$@"
  rc=$?
  echo "== $name: exit $rc after $((SECONDS - t0)) s"
  [ "$rc" = 0 ] || failed+=("$name")
  return "$rc"
}
train() {  # train MODEL MINUTES
  "$PYTHON" -m pigkit.train --model "$1" --data "$DATA" --out "$WORK/run" --preset "$PRESET" --resolution "$RES" \
    --folds 1,2,3 --batch "$BATCH" --lr "$LR" --iters "$ITERS" --warmup "$WARMUP" --max-minutes "$2" \
    --ckpt-every "$CKPT_EVERY" --log-every "$LOG_EVERY" --device "$DEVICE" --threads "$THREADS" \
    $([[ " $BF16 " == *" $1 "* ]] && echo --bf16) $TRAIN_FLAGS
}
half() {  # its line (with the iteration) also kept for the summary
  "$PYTHON" -m pigkit.pack --checkpoint "$WORK/run/$1/ckpt.pt" --out "$OUT/run/$1/ckpt.pt" 2>&1 | tee "$WORK/$1.half"
}
evaluate() {  # the float16 pair that comes back, on fold 4 (its JSON on stdout kept apart from the log)
  "$PYTHON" -m pigkit.evaluate --device "$DEVICE" --run "$OUT/run" --data "$DATA" --out "$WORK/eval" --n "$N" \
    --steps "$STEPS" --eta "$ETA" --batch "$EVAL_BATCH" --segmenter "$WORK/segmenter/segmenter.pt" \
    --threads "$THREADS" ${CLIP:+--clip "$CLIP"} > "$WORK/eval/stdout.json"
}
image_minutes() {  # IMAGE_MINUTES, or less where the deadline leaves less (at least half a minute)
  awk -v want="$IMAGE_MINUTES" -v total="$TOTAL_MINUTES" -v used="$SECONDS" -v reserve="$RESERVE_S" 'BEGIN {
    m = want; left = (total * 60 - used - reserve) / 60
    if (total > 0 && (m == 0 || left < m)) m = left
    if (total > 0 && m < 0.5) m = 0.5
    printf "%.2f", m }'
}
trained() {  # trained MODEL: "N it, loss L" (the iteration that came back, the last logged loss)
  local it loss
  it=$(sed -n 's/.* of iteration \([0-9]*\),.*/\1/p' "$WORK/$1.half" 2>/dev/null)
  loss=$(tail -n 1 "$WORK/run/$1/log.csv" 2>/dev/null | awk -F, '$1 ~ /^[0-9]+$/ { print $3 }')
  echo "${it:-no} it, loss ${loss:-none logged}"
}
json_text() { [ -f "$2" ] && sed -n "s/^ *\"$1\": \"\(.*\)\",\{0,1\}$/\1/p" "$2" | head -n 1; }
json_number() { [ -f "$2" ] && awk -v k="\"$1\":" '$1 == k { gsub(/,/, "", $2); printf "%.3f", $2; exit }' "$2"; }

train_pair() {  # model_x, its float16 copy made beside model_y's training, then model_y and its copy
  local half_mask=""
  stage mask train mask "$MASK_MINUTES" && { half mask & half_mask=$!; }
  if [ -z "${failed[*]}" ]; then
    stage image train image "$(image_minutes)" && stage half-image half image
  fi
  [ -z "$half_mask" ] || wait "$half_mask" || failed+=(half-mask)
}

sprint() {
  echo "gpu-sprint: $PRESET ${RES}² batch $BATCH on $DEVICE with $PYTHON, data $DATA, work $WORK, out $OUT"
  [ -f "$DATA" ] || [ -d "$DATA" ] || { echo "error: $DATA not found (pack it first: training/README.md \"GPU sprint\")"; failed+=(data); return; }
  mkdir -p "$WORK/eval"
  if [ -n "$AUTOENCODER" ]; then  # a latent pair: trained here, scored after the export (see above)
    train_pair
    return
  fi
  "$PYTHON" -m pigkit.segment --device "$DEVICE" --data "$DATA" --resolution "$RES" --folds 1,2,3 --iters "$SEG_ITERS" \
    --threads "$THREADS" --out "$WORK/segmenter" > "$WORK/segment.log" 2>&1 &
  local seg=$!
  train_pair
  wait "$seg"
  local seg_rc=$?
  echo "== segment (beside the training): exit $seg_rc"
  grep -v '^\[W' "$WORK/segment.log"  # its own log, shown in one piece
  [ "$seg_rc" = 0 ] || failed+=(segment)
  if [ -z "${failed[*]}" ] && stage evaluate evaluate; then
    cp "$WORK/eval/"{results.json,results.md,samples.png,card.json} "$OUT/" || failed+=(results)
  fi
}

report() {
  tar -czf "$OUT/logs.tar.gz" -C "$WORK" --exclude='*.pt' --exclude='*.partial' run segmenter eval segment.log 2>/dev/null
  local files bytes big deep
  files=$(find "$OUT" -type f | wc -l)
  bytes=$(find "$OUT" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  big=$(find "$OUT" -type f -size +16M | wc -l)
  deep=$(find "$OUT" -mindepth 4 | wc -l)
  if [ "$files" -gt 8 ] || [ "$big" -gt 0 ] || [ "$deep" -gt 0 ] || [ "$bytes" -gt $((64 << 20)) ]; then
    failed+=(out-limits)
    echo "error: $OUT breaks the device tool's limits (at most 8 files, 16 MiB each, 64 MiB in all, 2 folders deep):"
    find "$OUT" -type f -printf '  %P %s bytes\n'
  fi
  local status=ok
  [ -z "${failed[*]}" ] || status="FAILED: ${failed[*]}"
  local config="$WORK/run/mask/config.json"
  echo "gpu-sprint: $status | $PRESET ${RES}² batch $BATCH on $(json_text hardware "$config"), torch $(json_text torch "$config")" \
    "| mask $(trained mask) | image $(trained image)" \
    "| $(if [ -n "$AUTOENCODER" ]; then echo "latent on $(basename "$AUTOENCODER"): evaluate after the export"; else
      echo "eval n=$N η=$ETA: pair Dice $(json_number dice_generated_mean "$OUT/results.json")," \
        "real $(json_number dice_real_test_mean "$OUT/results.json"), empty $(json_number empty_mask_rate "$OUT/results.json")"; fi)" \
    "| $files files, $((bytes >> 20)) MiB | $((SECONDS / 60))m$((SECONDS % 60))s"
  [ -z "${failed[*]}" ]
}

{ sprint; report; } 2>&1 | tee "$OUT/sprint.log"
exit "${PIPESTATUS[0]}"
