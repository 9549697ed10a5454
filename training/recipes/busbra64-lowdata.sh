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
#           mask first, then image, resuming RUN's checkpoints: call it again until the models are
#           trained (the shipped pair saw 93 k / 217 k images; with a quarter of the pairs, as many
#           images is four times the passes)
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
      for _ in $(seq "${SITTINGS:-1}"); do
        OUT=$RUN TRAIN_ARGS="$subset" bash recipes/busbra64-cpu.sh
      done ;;
    export)
      "$PYTHON" -m pigkit.export --run "$RUN" --out "$RUN/model" --name "busbra64-low$FRACTION" --steps 50 --eta 1 --clip both \
        --data-card datasets/busbra.json ;;
    table)
      # as many generated pairs as the rows need: MULTIPLE (the largest in ROWS, default 1) × the subset's pairs
      n=$("$PYTHON" -c 'import sys; from pigkit.data import open_dataset
print(len(open_dataset(sys.argv[1], 64, {1, 2, 3}).patient_subset(float(sys.argv[2]), int(sys.argv[3]))))' \
        "${DATA:-../../shared/datasets/busbra}" "$FRACTION" "$PATIENTS_SEED")
      MODEL=$RUN/model TABLE=$TABLE DOWNSTREAM=${DOWNSTREAM:-$TABLE/downstream-low$FRACTION} \
        DOWNSTREAM_ARGS="--train-patients $FRACTION --patients-seed $PATIENTS_SEED" \
        COUNT=${COUNT:-$(( n * ${MULTIPLE:-1} ))} bash recipes/busbra64-table.sh ;;
    *) echo "busbra64-lowdata.sh: unknown stage '$stage' (train, export, table)" >&2; exit 2 ;;
  esac
done
