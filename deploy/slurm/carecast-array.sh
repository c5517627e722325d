#!/usr/bin/env bash
# Runs a carecast simulation as a Slurm job array of shards, then merges them
# in a job that starts only when every shard has succeeded.
#
#   deploy/slurm/carecast-array.sh CONFIG RUNS SHARDS OUTDIR [SEED]
#
# submits `sbatch --array=0-(SHARDS-1)` of `carecast run CONFIG --runs RUNS
# --shard K/SHARDS --partial OUTDIR/part-K.bin` (K = SLURM_ARRAY_TASK_ID), then
# `carecast merge OUTDIR/part-*.bin --json … --csv … --html … --xlsx …
# --markdown …` with --dependency=afterok on the whole array. The outputs are
# byte for byte those of `carecast run CONFIG --runs RUNS` on one machine.
# Prints the two job ids. CARECAST (default: carecast on the PATH) names the
# binary; SBATCH_OPTIONS adds options to both submissions (partition,
# account, time limit). OUTDIR must be on a file system every node sees.
set -euo pipefail
if [ $# -lt 4 ]; then
    sed -n '2,16p' "$0" >&2
    exit 2
fi
config=$(realpath "$1")
runs=$2
shards=$3
out=$(realpath -m "$4")
seed=${5:-}
carecast=${CARECAST:-$(command -v carecast || echo carecast)}
mkdir -p "$out/logs"
seed_flag=()
[ -n "$seed" ] && seed_flag=(--seed "$seed")
# shellcheck disable=SC2086
array=$(sbatch --parsable ${SBATCH_OPTIONS:-} \
    --job-name=carecast-shard --array="0-$((shards - 1))" \
    --output="$out/logs/shard-%a.out" --error="$out/logs/shard-%a.err" \
    --wrap="'$carecast' run '$config' --runs $runs ${seed_flag[*]} --quiet \
        --shard \$SLURM_ARRAY_TASK_ID/$shards --partial '$out'/part-\$SLURM_ARRAY_TASK_ID.bin")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${SBATCH_OPTIONS:-} \
    --job-name=carecast-merge --dependency="afterok:$array" \
    --output="$out/logs/merge.out" --error="$out/logs/merge.err" \
    --wrap="'$carecast' merge '$out'/part-*.bin --quiet --json '$out/results.json' \
        --csv '$out/results.csv' --html '$out/report.html' --xlsx '$out/results.xlsx' \
        --markdown '$out/results.md'")
merge=${merge%%;*}
echo "shards: job $array (array 0-$((shards - 1))); merge: job $merge"
