#!/usr/bin/env bash
# A real Slurm job array of carecast shards, merged, compared byte for byte
# with a single run; then a shard that fails, whose merge must be cancelled.
#
#   bash tests/slurm/run.sh [CARECAST_BINARY]
#
# First, without a cluster, the arguments the recipe in
# deploy/slurm/carecast-array.sh must refuse (exit 2, one line, nothing
# submitted): an OUTDIR that is a file, that holds an earlier run's parts or
# outputs, or that contains '%' or a line break, and RUNS, SHARDS or SEED
# that are not whole numbers. Then it starts a one-node Slurm cluster in a
# temporary folder — munged, slurmctld and slurmd as plain processes (no
# systemd), root's own, on ports of their own — and submits the example with
# the recipe as a 4-task array of shards and a merge job that depends on them
# (afterok), with the config, the binary and OUTDIR all at paths holding
# spaces and quotes. It waits for the merged outputs and compares every one
# with `carecast run` of all the runs on one machine (`cmp`). Last, it submits
# again with a binary whose shard 2 fails and checks that the merge job ends
# CANCELLED (--kill-on-invalid-dep) and writes nothing. Debian's slurmctld,
# slurmd, slurm-client and munge are installed with apt-get when missing (this
# needs root). The daemons are stopped by their PIDs on exit. On failure the
# daemons' and the jobs' logs are printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
bin=$(realpath "${1:-target/release/carecast}")
runs=${CARECAST_SLURM_RUNS:-2000}
shards=4
timeout_s=${CARECAST_SLURM_TIMEOUT:-900}

recipe="$repo/deploy/slurm/carecast-array.sh"
work=$(mktemp -d /tmp/carecast-slurm.XXXXXX)
chmod 755 "$work"
pids=()
show_logs() {
    local f
    while IFS= read -r -d '' f; do
        echo "----- $f"
        tail -n 40 "$f"
    done < <(find "$work" \( -path '*/logs/*' -o -name '*.log' \) -type f -print0)
}
cleanup() {
    status=$?
    if [ $status -ne 0 ]; then
        echo "slurm: FAILED (status $status); logs follow" >&2
        show_logs >&2 || true
    fi
    # Cancel what is left, then stop the daemons by PID, newest first.
    if [ -n "${SLURM_CONF:-}" ]; then
        scancel --quiet --user=root 2>/dev/null || true
    fi
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[$i]}" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$p" 2>/dev/null || true
    done
    rm -rf "$work"
    exit $status
}
trap cleanup EXIT

# The refusals, before any cluster, with an sbatch that must not be called.
mkdir -p "$work/no-sbatch" "$work/refused"
# shellcheck disable=SC2016 # expanded by the stub when it runs
printf '#!/bin/sh\necho called >>"$(dirname "$0")/called"\nexit 1\n' >"$work/no-sbatch/sbatch"
chmod +x "$work/no-sbatch/sbatch"
config="$repo/configs/example.toml"
r="$work/refused"
touch "$r/a file"
mkdir -p "$r/earlier parts" "$r/earlier outputs"
touch "$r/earlier parts/part-3.bin" "$r/earlier outputs/report.html"
# What the message must say, then the arguments.
refuse_case() {
    local want=$1 err status
    shift
    set +e
    err=$(PATH="$work/no-sbatch:$PATH" CARECAST="$bin" bash "$recipe" "$@" 2>&1 >/dev/null)
    status=$?
    set -e
    if [ $status -ne 2 ] || [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ] ||
        [[ $err != "error: "*"$want"* ]]; then
        echo "slurm: the recipe should refuse with '$want' (exit 2, one line); got exit $status: $err" >&2
        exit 1
    fi
    refused=$((refused + 1))
}
refused=0
refuse_case "exists and is not a folder" "$config" 100 4 "$r/a file"
refuse_case "already holds part-3.bin" "$config" 100 4 "$r/earlier parts"
refuse_case "already holds report.html" "$config" 100 4 "$r/earlier outputs"
refuse_case "contains '%'" "$config" 100 4 "$r/out-%j"
refuse_case "contains a line break" "$config" 100 4 "$r/new"$'\n'"line"
refuse_case "RUNS is abc" "$config" abc 4 "$r/new"
refuse_case "RUNS is 0" "$config" 0 4 "$r/new"
refuse_case "SHARDS is -2" "$config" 100 -2 "$r/new"
refuse_case "SHARDS is 08" "$config" 100 08 "$r/new"
refuse_case "SHARDS is 5, more than the 4 runs" "$config" 4 5 "$r/new"
refuse_case "SEED is 1e3" "$config" 100 4 "$r/new" 1e3
refuse_case "is not a file" "$r/missing.toml" 100 4 "$r/new"
if [ -e "$work/no-sbatch/called" ] || [ -e "$r/new" ]; then
    echo "slurm: a refused submission called sbatch or made OUTDIR" >&2
    exit 1
fi
echo "slurm: the recipe refused $refused bad submissions (exit 2, one line each, nothing submitted)"

need=()
for cmd in slurmctld slurmd sbatch squeue munged; do
    command -v "$cmd" >/dev/null 2>&1 || need=(slurmctld slurmd slurm-client munge)
done
if [ ${#need[@]} -gt 0 ]; then
    echo "slurm: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi


host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work/state" "$work/spool" "$work/munge"

# munge: a fresh key, a socket of our own.
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 700 "$work/munge"
chmod 400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" \
    --socket="$work/munge/munge.socket" --pid-file="$work/munge/munged.pid" \
    --log-file="$work/munged.log" --seed-file="$work/munge/munged.seed"
for _ in $(seq 50); do [ -s "$work/munge/munged.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/munge/munged.pid")")

cat >"$work/slurm.conf" <<EOF
ClusterName=carecast-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
# No cgroups: nothing here is confined.
cat >"$work/cgroup.conf" <<EOF
CgroupPlugin=autodetect
IgnoreSystemd=yes
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
EOF
export SLURM_CONF="$work/slurm.conf"

slurmctld -D -i -f "$SLURM_CONF" >>"$work/slurmctld.log" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >>"$work/slurmd.log" 2>&1 &
pids+=($!)

# Wait for the node to be idle.
deadline=$((SECONDS + 120))
until sinfo -h -o '%T' 2>/dev/null | grep -q '^idle'; do
    if [ $SECONDS -ge $deadline ]; then
        echo "slurm: the node did not come up in 120 s" >&2
        sinfo 2>&1 >&2 || true
        exit 1
    fi
    for p in "${pids[@]}"; do
        kill -0 "$p" 2>/dev/null || { echo "slurm: a daemon (pid $p) died" >&2; exit 1; }
    done
    sleep 1
done
echo "slurm: node $host up ($cpus CPUs)"

# The recipe, as a user would run it, with every path awkward: the config,
# the binary and OUTDIR all hold spaces and quotes.
odd="$work/it's \"odd\" dir"
mkdir -p "$odd/bin dir"
cp "$repo/configs/example.toml" "$odd/the example's config.toml"
ln -s "$bin" "$odd/bin dir/care\"cast"
out="$odd/out dir"
CARECAST="$odd/bin dir/care\"cast" bash "$recipe" \
    "$odd/the example's config.toml" "$runs" "$shards" "$out"
if command -v shellcheck >/dev/null 2>&1; then
    shellcheck "$out/jobs/shard.sh" "$out/jobs/merge.sh"
fi

# Judge by the outputs, not by an exit code: wait until the merge's outputs
# exist and no job is left in the queue.
deadline=$((SECONDS + timeout_s))
while :; do
    left=$(squeue -h 2>/dev/null | wc -l)
    if [ "$left" -eq 0 ] && [ -s "$out/results.json" ]; then
        break
    fi
    if [ "$left" -eq 0 ] && [ ! -s "$out/results.json" ]; then
        # Nothing queued and no output: give the merge's files a moment.
        sleep 2
        [ -s "$out/results.json" ] && break
        echo "slurm: the queue is empty but the merge wrote nothing" >&2
        exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
        echo "slurm: jobs still queued after ${timeout_s} s" >&2
        squeue >&2 || true
        exit 1
    fi
    sleep 2
done
for k in $(seq 0 $((shards - 1))); do
    [ -s "$out/part-$k.bin" ] || { echo "slurm: shard $k wrote no partial file" >&2; exit 1; }
done

# The same outputs from one run on this machine.
mkdir -p "$work/single"
"$bin" run "$repo/configs/example.toml" --runs "$runs" --quiet \
    --json "$work/single/results.json" --csv "$work/single/results.csv" \
    --html "$work/single/report.html" --xlsx "$work/single/results.xlsx" \
    --markdown "$work/single/results.md"
for f in results.json results.csv report.html results.xlsx results.md; do
    cmp "$work/single/$f" "$out/$f"
done
echo "slurm: $shards shards of $runs runs merged byte for byte as one run (json, csv, html, xlsx, markdown), at paths with spaces and quotes"

# A shard that fails: its merge must be cancelled, neither left pending for
# ever nor run on the parts that exist.
mkdir -p "$work/failing"
# shellcheck disable=SC2016 # expanded by the wrapper when it runs
{
    echo '#!/usr/bin/env bash'
    echo '# The real carecast, except that shard 2 fails.'
    echo 'if [ "${SLURM_ARRAY_TASK_ID:-}" = 2 ]; then'
    echo '    echo "shard 2 fails on purpose" >&2'
    echo '    exit 3'
    echo 'fi'
    echo "exec $(printf '%q' "$bin") \"\$@\""
} >"$work/failing/carecast"
chmod +x "$work/failing/carecast"
submitted=$(CARECAST="$work/failing/carecast" bash "$recipe" \
    "$repo/configs/example.toml" 200 "$shards" "$work/failing/out")
echo "$submitted"
merge_job=$(sed -n 's/.*merge: job \([0-9][0-9]*\).*/\1/p' <<<"$submitted")
[ -n "$merge_job" ] || { echo "slurm: no merge job id in: $submitted" >&2; exit 1; }
# Slurm finds the dependency unmet once the failed task is done; a few
# scheduling passes at most.
cancel_s=300
deadline=$((SECONDS + cancel_s))
while :; do
    state=$(scontrol show job -o "$merge_job" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
    case $state in
    CANCELLED) break ;;
    PENDING | CONFIGURING | "") ;;
    *)
        echo "slurm: the merge after a failed shard ended $state, not CANCELLED" >&2
        exit 1
        ;;
    esac
    if [ $SECONDS -ge $deadline ]; then
        echo "slurm: the merge after a failed shard is still ${state:-unknown} after ${cancel_s} s" >&2
        scontrol show job "$merge_job" >&2 || true
        exit 1
    fi
    sleep 2
done
for f in results.json results.csv report.html results.xlsx results.md; do
    if [ -e "$work/failing/out/$f" ]; then
        echo "slurm: the cancelled merge wrote $f" >&2
        exit 1
    fi
done
echo "slurm: with shard 2 failing, the merge job was cancelled and wrote nothing"
