#!/usr/bin/env bash
# A real Slurm job array of carecast shards, merged, compared byte for byte
# with a single run.
#
#   bash tests/slurm/run.sh [CARECAST_BINARY]
#
# Starts a one-node Slurm cluster in a temporary folder — munged, slurmctld and
# slurmd as plain processes (no systemd), root's own, on ports of their own —
# submits the example as a 4-task array of shards with the recipe in
# deploy/slurm/carecast-array.sh (shards, then a merge job that depends on
# them with afterok), waits for the merged outputs, and compares every output
# with `carecast run` of all the runs on one machine (`cmp`). Debian's
# slurmctld, slurmd, slurm-client and munge are installed with apt-get when
# missing (this needs root). The daemons are stopped by their PIDs on exit.
# On failure the daemons' and the jobs' logs are printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
bin=$(realpath "${1:-target/release/carecast}")
runs=${CARECAST_SLURM_RUNS:-2000}
shards=4
timeout_s=${CARECAST_SLURM_TIMEOUT:-900}

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

work=$(mktemp -d /tmp/carecast-slurm.XXXXXX)
chmod 755 "$work"
pids=()
show_logs() {
    for f in "$work"/*.log "$work"/out/logs/*; do
        [ -f "$f" ] || continue
        echo "----- $f"
        tail -n 40 "$f"
    done
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

host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work/state" "$work/spool" "$work/munge" "$work/out"

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

# The recipe, as a user would run it.
CARECAST="$bin" bash "$repo/deploy/slurm/carecast-array.sh" \
    "$repo/configs/example.toml" "$runs" "$shards" "$work/out"

# Judge by the outputs, not by an exit code: wait until the merge's outputs
# exist and no job is left in the queue.
deadline=$((SECONDS + timeout_s))
while :; do
    left=$(squeue -h 2>/dev/null | wc -l)
    if [ "$left" -eq 0 ] && [ -s "$work/out/results.json" ]; then
        break
    fi
    if [ "$left" -eq 0 ] && [ ! -s "$work/out/results.json" ]; then
        # Nothing queued and no output: give the merge's files a moment.
        sleep 2
        [ -s "$work/out/results.json" ] && break
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
    [ -s "$work/out/part-$k.bin" ] || { echo "slurm: shard $k wrote no partial file" >&2; exit 1; }
done

# The same outputs from one run on this machine.
mkdir -p "$work/single"
"$bin" run "$repo/configs/example.toml" --runs "$runs" --quiet \
    --json "$work/single/results.json" --csv "$work/single/results.csv" \
    --html "$work/single/report.html" --xlsx "$work/single/results.xlsx" \
    --markdown "$work/single/results.md"
for f in results.json results.csv report.html results.xlsx results.md; do
    cmp "$work/single/$f" "$work/out/$f"
done
echo "slurm: $shards shards of $runs runs merged byte for byte as one run (json, csv, html, xlsx, markdown)"
