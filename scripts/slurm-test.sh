#!/usr/bin/env bash
# A throwaway one-node Slurm cluster, so that CI submits the Snakemake workflow through the
# Slurm executor plugin for real (issue #16), as scripts/postgres-test.sh does for PostgreSQL.
#   eval "$(bash scripts/slurm-test.sh start DIR)"   # exports GUTJOINT_TEST_SLURM=1
#   bash scripts/slurm-test.sh stop DIR
# Needs root (slurmd runs jobs as their user; munged and the controller need their system
# users): CI and a throwaway machine only, never a workstation that runs a real Slurm.
#
# Why these settings:
# - this host is controller and only node (`hostname -s`), with its real cores and 80% of its
#   memory, so the per-rule `mem_mb` hints of the Snakefile are honoured as on a cluster;
# - no accounting database (slurmdbd + MariaDB would be another server to run): the workflow
#   is run with `--slurm-status-command squeue`, and `MinJobAge=600` keeps a finished job
#   visible to squeue for 10 minutes, which is how the plugin learns it ended;
# - the config must be /etc/slurm/slurm.conf: with SLURM_CONF pointing elsewhere the `srun`
#   inside each job fails with "Could not establish a configuration source". A slurm.conf that
#   this script did not write is never overwritten.
set -euo pipefail
action=${1:?usage: slurm-test.sh start|stop DIR}
dir=${2:?usage: slurm-test.sh start|stop DIR}
conf=/etc/slurm/slurm.conf
marker="# written by gutjoint scripts/slurm-test.sh"

say() { echo "slurm-test.sh: $*" >&2; }

case "$action" in
  start)
    if [ "$(id -u)" != 0 ]; then
      say "must run as root (it starts munged, slurmctld and slurmd)"
      exit 1
    fi
    if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
      || ! command -v munged >/dev/null || ! command -v squeue >/dev/null; then
      say "installing slurm-wlm and munge"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
    fi
    if [ -e "$conf" ] && ! grep -qF "$marker" "$conf"; then
      say "$conf exists and was not written by this script: refusing to replace it"
      exit 1
    fi
    mkdir -p "$dir"/{state,spool,log} /etc/slurm
    chown -R slurm:slurm "$dir/state" "$dir/log"
    chmod 755 "$dir"
    # munge: a key if the package did not make one, then the daemon.
    if [ ! -s /etc/munge/munge.key ]; then
      dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
      chown munge:munge /etc/munge/munge.key
      chmod 400 /etc/munge/munge.key
    fi
    mkdir -p /run/munge
    chown munge:munge /run/munge
    if ! munge -n >/dev/null 2>&1; then
      runuser -u munge -- munged
    fi
    host=$(hostname -s)
    cpus=$(nproc)
    mem=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.8 }' /proc/meminfo)
    cat >"$conf" <<EOF
$marker (state in $dir)
ClusterName=gutjoint-ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
MinJobAge=600
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    slurmctld
    slurmd
    # The node reports in within a few seconds; wait until it takes jobs.
    for _ in $(seq 60); do
      state=$(sinfo -h -N -o '%t' 2>/dev/null | head -n 1 || true)
      case "$state" in idle | mix | alloc) break ;; esac
      sleep 1
    done
    if ! sinfo -h -N -o '%t' | grep -Eq 'idle|mix|alloc'; then
      say "the node did not come up: $(sinfo -N 2>&1 | tail -n 1); logs in $dir/log"
      exit 1
    fi
    echo "export GUTJOINT_TEST_SLURM=1"
    ;;
  stop)
    for pid in "$dir/slurmd.pid" "$dir/slurmctld.pid"; do
      if [ -s "$pid" ]; then kill "$(cat "$pid")" 2>/dev/null || true; fi
    done
    sleep 1
    if [ -e "$conf" ] && grep -qF "$marker" "$conf"; then rm -f "$conf"; fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: slurm-test.sh start|stop DIR" >&2
    exit 2
    ;;
esac
