#!/usr/bin/env bash
# Issue [9]'s low-data setting, where generated pairs usually matter most: FRACTION (default 0.25)
# of the training folds' patients, a seeded patient-level subset (pigkit.data.patient_subset; both
# breasts of a patient or neither), is all the real data. The generators train on it alone
# (busbra64-cpu.sh's recipe with --patients), are exported with the shipped sampler (η 1, clip
# both), and the downstream table runs on the same subset (--train-patients): real-only against
# real + generated pairs, every score on fold 4.
#   PYTHON=/path/to/torch2/bin/python bash training/recipes/busbra64-lowdata.sh
# Stages, each resumable; STAGES picks some (default "train export table"):
#   train   SITTINGS calls of busbra64-cpu.sh (default 1: MINUTES_PER_MODEL minutes per model each),
#           mask first, then image, resuming RUN's checkpoints: call it again until the models reach
#           MASK_ITERS / IMAGE_ITERS. By default as many passes over the subset as the shipped pair made
#           over all 1,127 training pairs (mask 11,647 and image 27,065 iterations of batch 8, 83 and
#           192 passes): FRACTION of those iterations. As many images instead would be 1/FRACTION
#           times the passes over a small set, which a diffusion model memorises.
#   export  RUN → RUN/model (the studio's model folder; its card says what it was trained on)
#   table   busbra64-table.sh on RUN/model with DOWNSTREAM_ARGS="--train-patients FRACTION"
#           into TABLE/downstream-lowFRACTION (TABLE defaults to ../runs/table64; its LR_SCHEDULE,
#           ROWS, JOBS and SEG_ITERS apply; MULTIPLE: ROWS' largest multiple, for the pairs to generate)
set -euo pipefail
cd "$(dirname "$0")/.."
FRACTION=${FRACTION:-0.25}
PATIENTS_SEED=${PATIENTS_SEED:-0}
RUN=$(realpath -m "${RUN:-../runs/busbra64-low$FRACTION}")
TABLE=$(realpath -m "${TABLE:-../runs/table64}")
PYTHON=${PYTHON:-/usr/bin/python3}
export PYTHON
subset="--patients $FRACTION --patients-seed $PATIENTS_SEED"
for stage in ${STAGES:-train export table}; do
  case $stage in
    train)
      mask_iters=${MASK_ITERS:-$("$PYTHON" -c "print(round(11647 * $FRACTION))")}
      image_iters=${IMAGE_ITERS:-$("$PYTHON" -c "print(round(27065 * $FRACTION))")}
      for _ in $(seq "${SITTINGS:-1}"); do
        OUT=$RUN MODELS=mask ITERS=$mask_iters TRAIN_ARGS="$subset" bash recipes/busbra64-cpu.sh
        # the image model learns on the frozen mask model's x̂₀: only on the finished one
        done_iters=$("$PYTHON" -c 'import sys; from pigkit.training.checkpoint import read_checkpoint; print(read_checkpoint(sys.argv[1])["iter"])' "$RUN/mask/ckpt.pt")
        if (( done_iters < mask_iters )); then
          echo "busbra64-lowdata.sh: the mask model is at $done_iters of $mask_iters iterations; run the train stage again" >&2
          continue
        fi
        OUT=$RUN MODELS=image ITERS=$image_iters TRAIN_ARGS="$subset" bash recipes/busbra64-cpu.sh
      done ;;
    export)
      "$PYTHON" -m pigkit.export --run "$RUN" --out "$RUN/model" --name "busbra64-low$FRACTION" --steps 50 --eta 1 --clip both \
        --data-card datasets/busbra.json ;;
    table)
      # as many generated pairs as the rows need: MULTIPLE (the largest in ROWS, default 1) × the subset's pairs
      n=$("$PYTHON" -c 'import sys; from pigkit.data.pairs import open_dataset
print(len(open_dataset(sys.argv[1], 64, {1, 2, 3}).patient_subset(float(sys.argv[2]), int(sys.argv[3]))))' \
        "${DATA:-../../shared/datasets/busbra}" "$FRACTION" "$PATIENTS_SEED")
      MODEL=$RUN/model TABLE=$TABLE DOWNSTREAM=${DOWNSTREAM:-$TABLE/downstream-low$FRACTION} \
        DOWNSTREAM_ARGS="--train-patients $FRACTION --patients-seed $PATIENTS_SEED" \
        COUNT=${COUNT:-$(( n * ${MULTIPLE:-1} ))} bash recipes/busbra64-table.sh ;;
    *) echo "busbra64-lowdata.sh: unknown stage '$stage' (train, export, table)" >&2; exit 2 ;;
  esac
done
