#!/usr/bin/env bash
# Runs a carecast simulation as a Slurm job array of shards, then merges them
# in a job that starts only when every shard has succeeded.
#
#   deploy/slurm/carecast-array.sh CONFIG RUNS SHARDS OUTDIR [SEED]
#
# Writes two job scripts into OUTDIR/jobs and submits them: shard.sh as
# `sbatch --array=0-(SHARDS-1)`, each task running `carecast run CONFIG --runs
# RUNS --shard K/SHARDS --partial OUTDIR/part-K.bin` (K = SLURM_ARRAY_TASK_ID),
# then merge.sh with --dependency=afterok on the whole array and
# --kill-on-invalid-dep=yes, so that if any shard fails the merge is cancelled
# instead of waiting for ever. merge.sh names every part, part-0.bin to
# part-(SHARDS-1).bin, and writes results.json, results.csv, report.html,
# results.xlsx and results.md into OUTDIR: byte for byte the outputs of
# `carecast run CONFIG --runs RUNS` on one machine. Prints the two job ids.
#
# CARECAST (default: carecast on the PATH) names the binary; SBATCH_OPTIONS
# adds options to both submissions (partition, account, time limit). OUTDIR
# must be on a file system every node sees, must not hold the parts or
# outputs of an earlier run, and may not contain '%' (sbatch reads it in
# file names) or a line break. Any path may contain spaces and quotes. Bad
# arguments exit with status 2 and one line on stderr, before anything is
# submitted or written.
set -euo pipefail

usage() {
    echo "usage: $0 CONFIG RUNS SHARDS OUTDIR [SEED]" >&2
    exit 2
}
refuse() {
    echo "error: $*" >&2
    exit 2
}
if [ $# -lt 4 ] || [ $# -gt 5 ]; then
    usage
fi

# A value as one shell word: in the job scripts, and in messages, where a
# line break shows as $'\n' and the message stays on one line.
q() { printf '%q' "$1"; }

# A positive whole number of at most 18 digits (so that shell arithmetic
# cannot overflow), written without leading zeros (which bash would read as
# octal).
positive() {
    [[ $2 =~ ^[1-9][0-9]{0,17}$ ]] ||
        refuse "$1 is $(q "$2"): expected a positive whole number such as 4, with no leading zero"
}
positive RUNS "$2"
positive SHARDS "$3"
if [ "$3" -gt "$2" ]; then
    refuse "SHARDS is $3, more than the $2 runs: some shards would hold no runs"
fi
if [ $# -eq 5 ] && ! [[ $5 =~ ^(0|[1-9][0-9]{0,19})$ ]]; then
    refuse "SEED is $(q "$5"): expected a whole number such as 42"
fi
[ -f "$1" ] || refuse "CONFIG $(q "$1") is not a file: expected a carecast config (.toml)"

case $4 in
*$'\n'*) refuse "OUTDIR $(q "$4") contains a line break: choose another folder" ;;
*%*) refuse "OUTDIR $(q "$4") contains '%', which sbatch reads as a file-name pattern: choose another folder" ;;
esac
if [ -e "$4" ] && [ ! -d "$4" ]; then
    refuse "OUTDIR $(q "$4") exists and is not a folder"
fi
earlier=("$4"/part-*.bin)
for name in results.json results.csv report.html results.xlsx results.md jobs; do
    earlier+=("$4/$name")
done
for f in "${earlier[@]}"; do
    if [ -e "$f" ]; then
        refuse "OUTDIR $(q "$4") already holds $(q "$(basename "$f")") from an earlier run: use a new folder, or remove its parts, outputs and jobs/"
    fi
done

config=$(realpath "$1")
runs=$2
shards=$3
mkdir -p "$4"
out=$(realpath "$4")
seed=${5:-}
carecast=${CARECAST:-$(command -v carecast || echo carecast)}
mkdir -p "$out/logs" "$out/jobs"

# Every value goes into the job scripts quoted by q (printf %q), so a path is
# one word whatever it holds.
seed_flag=
[ -n "$seed" ] && seed_flag=" --seed $(q "$seed")"
{
    echo '#!/usr/bin/env bash'
    echo "# carecast shard SLURM_ARRAY_TASK_ID of $shards (deploy/slurm/carecast-array.sh)"
    echo 'set -euo pipefail'
    # shellcheck disable=SC2016 # written for the job to expand
    echo 'k=$SLURM_ARRAY_TASK_ID'
    echo "exec $(q "$carecast") run $(q "$config") --runs $(q "$runs")$seed_flag --quiet \\"
    echo "    --shard \"\$k/$shards\" --partial $(q "$out")/part-\"\$k\".bin"
} >"$out/jobs/shard.sh"
{
    echo '#!/usr/bin/env bash'
    echo "# carecast merge of the $shards shards (deploy/slurm/carecast-array.sh)"
    echo 'set -euo pipefail'
    echo '# Every part by name, not a glob: a missing part is an error, and no'
    echo '# other file in the folder is taken for one.'
    echo 'parts=()'
    echo "for ((k = 0; k < $shards; k++)); do"
    echo "    parts+=($(q "$out")/part-\"\$k\".bin)"
    echo 'done'
    echo "exec $(q "$carecast") merge \"\${parts[@]}\" --quiet \\"
    echo "    --json $(q "$out/results.json") --csv $(q "$out/results.csv") \\"
    echo "    --html $(q "$out/report.html") --xlsx $(q "$out/results.xlsx") \\"
    echo "    --markdown $(q "$out/results.md")"
} >"$out/jobs/merge.sh"
chmod +x "$out/jobs/shard.sh" "$out/jobs/merge.sh"

# shellcheck disable=SC2086 # SBATCH_OPTIONS is a list of options
array=$(sbatch --parsable ${SBATCH_OPTIONS:-} --chdir="$out" \
    --job-name=carecast-shard --array="0-$((shards - 1))" \
    --output="$out/logs/shard-%a.out" --error="$out/logs/shard-%a.err" \
    "$out/jobs/shard.sh")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${SBATCH_OPTIONS:-} --chdir="$out" \
    --job-name=carecast-merge \
    --dependency="afterok:$array" --kill-on-invalid-dep=yes \
    --output="$out/logs/merge.out" --error="$out/logs/merge.err" \
    "$out/jobs/merge.sh")
merge=${merge%%;*}
echo "shards: job $array (array 0-$((shards - 1))); merge: job $merge"
