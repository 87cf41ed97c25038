#!/usr/bin/env bash
# CI, Slurm part: a single-machine Slurm (munged, slurmctld, slurmd; 2 CPUs, no cgroups, no
# accounting daemon) runs a 4-cell sweep through sbatch; one cell is cancelled mid-run and must be
# resumed from its checkpoint; the gathered table must equal the same sweep on the local executor.
# Needs root and Debian's apt; bounded in time; stops its daemons on exit; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
JAR=$REPO/examples/target/looplab.jar
SCRIPT=$REPO/examples/scripts/tiny-sweep.looplab.kts
STATE=${LOOPLAB_SLURM_STATE:-/tmp/looplab-ci-slurm}
export OMP_NUM_THREADS=1 SLURM_CONF=$STATE/slurm.conf
start=$(date +%s)
say() { echo "[slurm-sweep +$(( $(date +%s) - start ))s] $*"; }
fail() { say "FAIL: $*"; exit 1; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi
[ -f "$JAR" ] || { say "building $JAR"; mvn -B -q package -DskipTests; }

stop_daemons() {
    for pid in "$STATE"/slurmd.pid "$STATE"/slurmctld.pid "$STATE"/munged.pid; do
        [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
    done
    sleep 1
}
cleanup() {
    set +e
    # The two sweeps run in the background; a failing check must not leave them behind.
    for pid in ${follower:-} ${local_sweep:-}; do kill "$pid" 2>/dev/null; done
    [ -f "$SLURM_CONF" ] && scancel --quiet --user="$(id -un)" 2>/dev/null
    stop_daemons
    say "daemons stopped"
}
trap cleanup EXIT

# A previous run's daemons (killed CI) are stopped and its state removed: runs do not see each other.
stop_daemons
rm -rf "$STATE"; mkdir -p "$STATE/ctld" "$STATE/d" "$STATE/sweeps-slurm" "$STATE/sweeps-local"
dd if=/dev/urandom of="$STATE/munge.key" bs=1024 count=1 status=none
chown munge:munge "$STATE/munge.key" 2>/dev/null || true; chmod 600 "$STATE/munge.key"
cat > "$SLURM_CONF" <<CONF
ClusterName=looplabci
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$STATE/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
KillWait=5
MinJobAge=600
NodeName=cinode NodeHostname=$(hostname -s) NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=ci Nodes=cinode Default=YES MaxTime=INFINITE State=UP
CONF
munged --force --socket="$STATE/munge.sock" --key-file="$STATE/munge.key" --pid-file="$STATE/munged.pid" \
    --log-file="$STATE/munged.log" --seed-file="$STATE/munged.seed"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N cinode
for _ in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 1; done
sinfo -h -o %T | grep -q idle || fail "the Slurm node did not come up (see $STATE/slurmctld.log)"
say "slurm up: $(sinfo -h -o '%P %D %c %T')"

# The sweep on Slurm and the same sweep on the local executor run side by side (both in the
# background); the test cancels one Slurm cell once it has a checkpoint.
timeout 840 java -jar "$JAR" sweep "$SCRIPT" --executor slurm --out "$STATE/sweeps-slurm" --poll 2 > "$STATE/slurm.out" 2>&1 &
follower=$!
timeout 840 java -jar "$JAR" sweep "$SCRIPT" --out "$STATE/sweeps-local" --parallel 2 > "$STATE/local.out" 2>&1 &
local_sweep=$!
sweep_dir() { find "$STATE/$1" -name sweep.json -printf '%h\n' 2>/dev/null | head -1; }
victim=""
while [ $(( $(date +%s) - start )) -lt 820 ] && kill -0 $follower 2>/dev/null; do
    dir=$(sweep_dir sweeps-slurm)
    if [ -n "$dir" ]; then
        ck=$(find "$dir/cells" -path '*/checkpoints/*/step-*/checkpoint.json' -not -path '*.partial*' 2>/dev/null | head -1)
        if [ -n "$ck" ]; then
            cell=$(echo "$ck" | sed -E 's#.*/cells/([^/]+)/run/.*#\1#')
            job=$(sed -nE 's/.*"job": "([0-9]+_[0-9]+)".*/\1/p' "$dir/cells/$cell/status.json")
            if ! grep -q '"complete"' "$dir/cells/$cell/status.json" && [ -n "$job" ]; then
                scancel "$job"; victim=$cell; say "cancelled cell $cell (job $job) mid-run"; break
            fi
        fi
    fi
    sleep 0.5
done
[ -n "$victim" ] || { cat "$STATE/slurm.out"; fail "no running cell with a checkpoint to cancel"; }
wait $follower || { cat "$STATE/slurm.out"; fail "the Slurm sweep did not complete"; }
dir=$(sweep_dir sweeps-slurm)
cat "$STATE/slurm.out"
say "slurm sweep done"
grep -q '"attempt": 2' "$dir/cells/$victim/status.json" || fail "cell $victim was not started again"
grep -q '"resumedFromStep": [1-9]' "$dir/cells/$victim/status.json" || fail "cell $victim did not continue from its checkpoint"
grep -q "submitting it again" "$STATE/slurm.out" || fail "the follower did not resubmit the cancelled cell"
[ "$(grep -c ' complete$' "$dir/comparison.txt")" = 4 ] || fail "the gathered table does not have 4 complete cells"
java -jar "$JAR" sweep --status "$dir" > /dev/null || fail "--status failed"

wait $local_sweep || { cat "$STATE/local.out"; fail "the local sweep did not complete"; }
say "local sweep done"
local_dir=$(sweep_dir sweeps-local)
diff "$dir/comparison.txt" "$local_dir/comparison.txt" || fail "Slurm and local executors gathered different tables"
say "the Slurm and local tables are identical:"
cat "$dir/comparison.txt"
say "OK in $(( $(date +%s) - start )) s"
