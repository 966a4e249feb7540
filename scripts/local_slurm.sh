#!/usr/bin/env bash
# A single-node Slurm on localhost, for tests of the sweep executor (Debian's slurmctld, slurmd,
# slurm-client and munge: scripts/install-deps.sh installs them). Run as root.
#
#   bash scripts/local_slurm.sh start STATE_DIR    writes STATE_DIR/slurm.conf, starts munged (when no munged
#                                                  answers), slurmctld and slurmd, waits until the node is
#                                                  idle and prints `export SLURM_CONF=STATE_DIR/slurm.conf`
#   bash scripts/local_slurm.sh stop STATE_DIR     cancels the jobs left, stops slurmd and slurmctld (and
#                                                  munged when start started it); nothing is left running
#   bash scripts/local_slurm.sh status STATE_DIR   sinfo and squeue of that cluster
#
#   eval "$(bash scripts/local_slurm.sh start /tmp/slurm)" && sbatch --wrap hostname ...
#   bash scripts/local_slurm.sh stop /tmp/slurm
#
# Only stdout's one `export` line is meant for eval; every diagnostic goes to stderr. The ports come from
# BITLINE_SLURMCTLD_PORT and BITLINE_SLURMD_PORT (defaults 6817 and 6818); start refuses when one is taken.
# Accounting is off (no sacct): follow jobs with squeue or `scontrol show job` (a finished job's record
# stays for MinJobAge = 300 s) or STATE_DIR/jobcomp.txt, one line per finished job with its state and
# exit code. Everything is written under STATE_DIR except munged's own files (/run/munge, /var/log/munge,
# /var/lib/munge).
#
# start clears the controller's saved state (slurmctld -c): no job survives a stop. Tested with Debian 12's
# Slurm 22.05 and munge 0.5.15.
#
# Exit status: 0 done, 1 the cluster did not come up or stop (the daemon logs' tails are shown),
# 2 usage, missing binaries or a port or STATE_DIR already in use.
set -euo pipefail

log() { echo "local_slurm: $*" >&2; }
die() {
  local status=$1
  shift
  log "$*"
  exit "$status"
}
usage() { die 2 "usage: bash scripts/local_slurm.sh start|stop|status STATE_DIR"; }

(($# == 2)) || usage
command=$1
case $command in start | stop | status) ;; *) usage ;; esac
[[ -n $2 ]] || usage
if [[ $command == start ]]; then mkdir -p "$2" || die 2 "cannot create $2"; fi
[[ -d $2 ]] || die 2 "$2: no such directory"
state_dir=$(cd "$2" && pwd -P)
conf=$state_dir/slurm.conf
ctld_port=${BITLINE_SLURMCTLD_PORT:-6817}
slurmd_port=${BITLINE_SLURMD_PORT:-6818}
node=$(hostname -s)

require_binaries() {
  local missing=() binary
  for binary in slurmctld slurmd sinfo squeue scancel sbatch munged munge unmunge; do
    command -v "$binary" >/dev/null 2>&1 || missing+=("$binary")
  done
  ((${#missing[@]} == 0)) ||
    die 2 "missing ${missing[*]}: run \`sudo bash scripts/install-deps.sh\` (Debian slurmctld slurmd slurm-client munge)"
}

# The PID in a pid file when that process still runs the named program (a stale file or a reused PID
# yields nothing).
live_pid() {
  local pid_file=$1 program=$2 pid
  [[ -s $pid_file ]] || return 1
  pid=$(tr -dc '0-9' <"$pid_file")
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  [[ $(tr '\0' '\n' <"/proc/$pid/cmdline" | head -n 1 | xargs -r basename 2>/dev/null) == "$program" ]] || return 1
  echo "$pid"
}

# Sends SIGTERM to every PID given, waits up to 10 s for them all, then SIGKILLs the ones left; returns once
# they are gone (status 1 if one survives SIGKILL for 5 s). slurmd and slurmctld took 1.3 s and 2.0 s one
# after the other, 0.3 s together.
stop_pids() {
  local pid tenths=0 alive
  (($#)) || return 0
  kill -TERM "$@" 2>/dev/null || true
  while :; do
    alive=()
    for pid in "$@"; do
      if kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*zombie' "/proc/$pid/status" 2>/dev/null; then alive+=("$pid"); fi
    done
    ((${#alive[@]})) || return 0
    if ((tenths == 100)); then
      log "pid(s) ${alive[*]} ignored SIGTERM for 10 s: SIGKILL"
      kill -KILL "${alive[@]}" 2>/dev/null || true
    fi
    if ((tenths == 150)); then
      log "pid(s) ${alive[*]} survive SIGKILL"
      return 1
    fi
    sleep 0.1
    tenths=$((tenths + 1))
  done
}

# slurmstepd processes of this cluster (the per-job daemons that slurmd forks: they outlive a killed
# slurmd). They keep SlurmdLogFile open, which tells them from another cluster's.
stepd_pids() {
  local fd_dir pid
  for fd_dir in /proc/[0-9]*/fd; do
    pid=${fd_dir#/proc/}
    pid=${pid%/fd}
    grep -q '^slurmstepd' "/proc/$pid/comm" 2>/dev/null || continue
    if find "$fd_dir" -maxdepth 1 -lname "$state_dir/slurmd.log" 2>/dev/null | grep -q .; then
      echo "$pid"
    fi
  done
}

# Every descendant of the given PIDs.
descendants() {
  ps -e -o pid=,ppid= | awk -v roots="$*" '
    BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
    { parent[$1] = $2 }
    END {
      do {
        grew = 0
        for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 2; grew = 1 }
      } while (grew)
      for (p in keep) if (keep[p] == 2) print p
    }'
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

show_logs() {
  local file
  for file in "$state_dir"/slurmctld.log "$state_dir"/slurmd.log "$state_dir"/slurmctld.out "$state_dir"/slurmd.out; do
    [[ -s $file ]] || continue
    echo "==> $file (last 25 lines) <==" >&2
    tail -n 25 "$file" >&2
  done
}

node_state() { SLURM_CONF=$conf sinfo -h -N -n "$node" -o %T 2>/dev/null | head -n 1; }

write_conf() {
  local cpus mem_mb
  cpus=$(nproc)
  # Leave 10 % (at least 512 MB) of the memory out: slurmd drains a node that has less than RealMemory.
  mem_mb=$(awk '/^MemTotal:/ {m = int($2 / 1024); r = m - (m / 10 > 512 ? m / 10 : 512); print (r > 256 ? int(r) : 256)}' /proc/meminfo)
  cat >"$conf" <<EOF
# Written by scripts/local_slurm.sh: a single-node test cluster; every path is under $state_dir.
ClusterName=bitline-test
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MailProg=/bin/true
StateSaveLocation=$state_dir/state
SlurmdSpoolDir=$state_dir/spool
SlurmctldPidFile=$state_dir/slurmctld.pid
SlurmdPidFile=$state_dir/slurmd.pid
SlurmctldLogFile=$state_dir/slurmctld.log
SlurmdLogFile=$state_dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Schedule at once: the main loop every second, backfill every second, no batching of events.
SchedulerParameters=sched_interval=1,bf_interval=1,sched_min_interval=0
ReturnToService=2
# Short timeouts so that tests do not wait: a cancelled job gets SIGKILL 2 s after SIGTERM.
SlurmctldTimeout=10
SlurmdTimeout=10
MessageTimeout=5
TCPTimeout=2
BatchStartTimeout=10
KillWait=2
InactiveLimit=0
WaitTime=0
CompleteWait=0
# A finished job's record (scontrol show job: JobState, ExitCode) stays this many seconds.
MinJobAge=300
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
# One line per finished job (each array task is one): JobId, JobState, ExitCode, times.
JobCompType=jobcomp/filetxt
JobCompLoc=$state_dir/jobcomp.txt
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  require_binaries
  [[ $(id -u) -eq 0 ]] || die 2 "run as root (slurmd runs the jobs as their submitter, and munged is started as root)"
  if live_pid "$state_dir/slurmctld.pid" slurmctld >/dev/null || live_pid "$state_dir/slurmd.pid" slurmd >/dev/null; then
    die 2 "a cluster of $state_dir is already running: bash scripts/local_slurm.sh stop $state_dir"
  fi
  local port
  for port in "$ctld_port" "$slurmd_port"; do
    if port_in_use "$port"; then
      die 2 "port $port is taken (another slurmctld or slurmd?); choose others with BITLINE_SLURMCTLD_PORT and BITLINE_SLURMD_PORT"
    fi
  done

  mkdir -p "$state_dir/state" "$state_dir/spool"
  rm -f "$state_dir"/slurmctld.pid "$state_dir"/slurmd.pid
  write_conf

  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "starting munged"
    mkdir -p /run/munge
    chown munge:munge /run/munge 2>/dev/null || true
    # --force: running as root, munged would refuse the munge-owned directories otherwise.
    munged --force 2>"$state_dir/munged.out" || {
      cat "$state_dir/munged.out" >&2
      die 1 "munged did not start"
    }
    local tries=0
    until munge -n 2>/dev/null | unmunge >/dev/null 2>&1; do
      ((++tries <= 50)) || {
        cat "$state_dir/munged.out" >&2
        die 1 "munged does not answer"
      }
      sleep 0.1
    done
    # Recorded so that stop stops it too; a munged that was already running is left alone.
    live_pid /run/munge/munged.pid munged >"$state_dir/munged.started" || true
  fi

  # -c: start from a clean controller state (no job left from an earlier start in the same STATE_DIR).
  if ! slurmctld -c -f "$conf" >"$state_dir/slurmctld.out" 2>&1; then
    show_logs
    stop_daemons
    die 1 "slurmctld did not start"
  fi
  if ! slurmd -f "$conf" -N "$node" >"$state_dir/slurmd.out" 2>&1; then
    show_logs
    stop_daemons
    die 1 "slurmd did not start"
  fi

  local started_ms state=""
  started_ms=$(date +%s%3N)
  while :; do
    state=$(node_state)
    [[ $state == idle ]] && break
    (($(date +%s%3N) - started_ms < 30000)) || break
    sleep 0.1
  done
  local waited_ms=$(($(date +%s%3N) - started_ms))
  if [[ $state != idle ]]; then
    show_logs
    log "node $node is '${state:-unknown}' after 30 s, not idle: stopping"
    stop_daemons
    exit 1
  fi
  log "node $node idle after $((waited_ms / 1000)).$((waited_ms % 1000 / 100)) s ($(nproc) CPUs, ports $ctld_port/$slurmd_port)"
  printf 'export SLURM_CONF=%q\n' "$conf"
}

stop_daemons() {
  local failed=0 pid daemon
  # Jobs first, while the controller is up: their processes are not slurmd's children.
  if live_pid "$state_dir/slurmctld.pid" slurmctld >/dev/null && [[ -f $conf ]]; then
    local jobs=()
    mapfile -t jobs < <(SLURM_CONF=$conf squeue -h -o %A 2>/dev/null || true)
    if ((${#jobs[@]})); then
      log "cancelling ${#jobs[@]} job(s)"
      SLURM_CONF=$conf scancel --full "${jobs[@]}" 2>/dev/null || true
      local tenths=0
      while [[ -n $(SLURM_CONF=$conf squeue -h -t PD,R,CG,S -o %A 2>/dev/null) ]] && ((tenths < 100)); do
        sleep 0.1
        tenths=$((tenths + 1))
      done
    fi
  fi
  local daemons=()
  for daemon in slurmd slurmctld; do
    if pid=$(live_pid "$state_dir/$daemon.pid" "$daemon"); then daemons+=("$pid"); fi
  done
  stop_pids "${daemons[@]}" || failed=1
  rm -f "$state_dir"/slurmd.pid "$state_dir"/slurmctld.pid
  # Job steps that outlived their slurmd (it died, or the jobs did not end in time), with every process
  # of their jobs. slurmstepd ignores SIGTERM once its slurmd is gone: SIGKILL at once.
  local stepds=()
  mapfile -t stepds < <(stepd_pids)
  if ((${#stepds[@]})); then
    local tree=()
    mapfile -t tree < <(descendants "${stepds[@]}")
    log "killing leftover slurmstepd ${stepds[*]} and their ${#tree[@]} job process(es)"
    kill -KILL "${stepds[@]}" "${tree[@]}" 2>/dev/null || true
    stop_pids "${stepds[@]}" "${tree[@]}" || failed=1
  fi
  # munged last: the slurm daemons authenticate their last messages with it.
  if [[ -f $state_dir/munged.started ]]; then
    if pid=$(live_pid "$state_dir/munged.started" munged); then
      log "stopping munged (started by local_slurm.sh start)"
      stop_pids "$pid" || failed=1
    fi
    rm -f "$state_dir/munged.started"
  fi
  return $failed
}

stop() {
  if ! stop_daemons; then
    show_logs
    die 1 "some processes of $state_dir did not stop"
  fi
  log "stopped"
}

status() {
  [[ -f $conf ]] || die 1 "$conf: no such file (start first)"
  live_pid "$state_dir/slurmctld.pid" slurmctld >/dev/null || die 1 "slurmctld of $state_dir is not running"
  live_pid "$state_dir/slurmd.pid" slurmd >/dev/null || log "slurmd of $state_dir is not running"
  SLURM_CONF=$conf sinfo
  SLURM_CONF=$conf squeue
}

"$command"
