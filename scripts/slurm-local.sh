#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for trying skipbench's cluster mode and for its integration tests.
#
#   eval "$(scripts/slurm-local.sh start)"   # prints exactly one line on stdout: export SLURM_CONF=PATH
#   scripts/slurm-local.sh status
#   scripts/slurm-local.sh stop
#
# From Debian's packages (slurmctld, slurmd, slurm-client, munge, openssh-server; installed when missing), with no
# systemd: a private munged (key, socket, log under the state folder), slurmctld and slurmd on 127.0.0.1 with no
# cgroups and no accounting database (`sacct -c` reads the job-completion file), and an sshd on 127.0.0.1 with a
# generated key for the SSH path: `ssh -F STATE/ssh/config slurm-local` logs into this machine with SLURM_CONF set.
# `start` is safe to re-run: a healthy cluster is reused, anything else is cleaned up and started afresh.
# Needs root (slurmd starts jobs as their user). Everything but the export line goes to stderr.
#
# Environment: SKIPBENCH_SLURM_DIR (state folder; default ${XDG_STATE_HOME:-~/.local/state}/skipbench/slurm-local),
# SKIPBENCH_SLURMCTLD_PORT (41617), SKIPBENCH_SLURMD_PORT (41618), SKIPBENCH_SSHD_PORT (41622).
set -euo pipefail

BASE=${SKIPBENCH_SLURM_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/skipbench/slurm-local}
CTLD_PORT=${SKIPBENCH_SLURMCTLD_PORT:-41617}
SLURMD_PORT=${SKIPBENCH_SLURMD_PORT:-41618}
SSHD_PORT=${SKIPBENCH_SSHD_PORT:-41622}
CONF=$BASE/etc/slurm.conf
MSOCK=$BASE/run/munge.sock
NODE=$(hostname -s)

say() { echo "slurm-local: $*" >&2; }
die() {
  say "error: $*"
  exit 1
}

# a pid is alive unless gone or a zombie (PID 1 may reap late)
alive() {
  local pid=${1:-}
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  local st
  st=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}
pid_of() { [ -f "$BASE/run/$1.pid" ] && tr -dc 0-9 <"$BASE/run/$1.pid" || true; }

slurm() { SLURM_CONF=$CONF timeout "${T:-10}" "$@"; }

install_missing() {
  local need=()
  command -v slurmctld >/dev/null 2>&1 || need+=(slurmctld)
  command -v slurmd >/dev/null 2>&1 || need+=(slurmd)
  command -v sbatch >/dev/null 2>&1 || need+=(slurm-client)
  command -v munged >/dev/null 2>&1 || need+=(munge)
  [ -x /usr/sbin/sshd ] || need+=(openssh-server)
  command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
  [ ${#need[@]} -eq 0 ] && return 0
  say "installing ${need[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  local apt=(apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends)
  if ! "${apt[@]}" "${need[@]}" >"$BASE.apt.log" 2>&1; then
    apt-get -o DPkg::Lock::Timeout=900 update -q >>"$BASE.apt.log" 2>&1 || true
    "${apt[@]}" "${need[@]}" >>"$BASE.apt.log" 2>&1 || {
      tail -20 "$BASE.apt.log" >&2
      die "apt-get install ${need[*]} failed (log: $BASE.apt.log)"
    }
  fi
}

healthy() {
  for d in munged slurmctld slurmd sshd; do alive "$(pid_of $d)" || return 1; done
  [ -f "$CONF" ] || return 1
  T=5 slurm scontrol ping 2>/dev/null | grep -q 'is UP' || return 1
  local st
  st=$(T=5 slurm sinfo -h -n "$NODE" -o %t 2>/dev/null) || return 1
  case "$st" in idle | mix | alloc | comp) return 0 ;; *) return 1 ;; esac
}

kill_pid() {
  local pid=$1
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    alive "$pid" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

envof() { cat "/proc/$1/environ" 2>/dev/null | tr '\0' '\n' || true; }

descendants() {
  local p
  for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$p"
    descendants "$p"
  done
}

stop_all() {
  local d pid
  for d in sshd slurmd slurmctld munged; do
    pid=$(pid_of $d)
    [ -n "$pid" ] && kill_pid "$pid"
    rm -f "$BASE/run/$d.pid"
  done
  # slurmstepd is double-forked and outlives slurmd: kill the ones of THIS cluster (their environment names our
  # config) and what they started
  for pid in $(pgrep -x slurmstepd 2>/dev/null || true); do
    if envof "$pid" | grep -qx "SLURM_CONF=$CONF"; then
      for c in $(descendants "$pid") "$pid"; do kill -KILL "$c" 2>/dev/null || true; done
    fi
  done
  # job processes left by a killed slurmstepd carry the same environment
  for e in /proc/[0-9]*; do
    pid=${e#/proc/}
    [ "$pid" = $$ ] && continue
    local env
    env=$(envof "$pid")
    if grep -qx "SLURM_CONF=$CONF" <<<"$env" && grep -q '^SLURM_JOB_ID=' <<<"$env"; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}

write_conf() {
  local hw
  hw=$(env -u SLURM_CONF slurmd -C | head -n 1 | sed 's/^NodeName=[^ ]* //')
  cat >"$CONF" <<EOF
ClusterName=skipbench
SlurmctldHost=localhost
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MSOCK
MailProg=/bin/true
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$BASE/log/jobcomp.txt
StateSaveLocation=$BASE/state/ctld
SlurmdSpoolDir=$BASE/state/d
SlurmctldPidFile=$BASE/run/slurmctld.pid
SlurmdPidFile=$BASE/run/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
ReturnToService=2
KillWait=5
MinJobAge=600
NodeName=$NODE NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

start_sshd() {
  local s=$BASE/ssh
  mkdir -p "$s" /run/sshd
  chmod 700 "$s"
  [ -f "$s/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$s/host_ed25519" -C skipbench-slurm-local-host >/dev/null
  [ -f "$s/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$s/id_ed25519" -C skipbench-slurm-local >/dev/null
  cp "$s/id_ed25519.pub" "$s/authorized_keys"
  chmod 600 "$s/authorized_keys"
  echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$s/host_ed25519.pub")" >"$s/known_hosts"
  cat >"$s/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $SSHD_PORT
HostKey $s/host_ed25519
PidFile $BASE/run/sshd.pid
AuthorizedKeysFile $s/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers $(id -un)
UsePAM no
StrictModes no
X11Forwarding no
PrintMotd no
MaxStartups 50:30:100
MaxSessions 50
SetEnv SLURM_CONF=$CONF
EOF
  cat >"$s/config" <<EOF
Host slurm-local
  HostName 127.0.0.1
  Port $SSHD_PORT
  User $(id -un)
  IdentityFile $s/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $s/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
EOF
  /usr/sbin/sshd -f "$s/sshd_config" -E "$BASE/log/sshd.log" || die "sshd did not start (log: $BASE/log/sshd.log)"
  for _ in $(seq 50); do
    timeout 5 ssh -F "$s/config" slurm-local true 2>/dev/null && return 0
    sleep 0.1
  done
  die "ssh -F $s/config slurm-local does not answer (log: $BASE/log/sshd.log)"
}

start() {
  [ "$(id -u)" = 0 ] || die "needs root (slurmd runs jobs as their user): run it with sudo"
  mkdir -p "$(dirname "$BASE")"
  install_missing
  if healthy; then
    say "already running (state in $BASE)"
    echo "export SLURM_CONF=$CONF"
    return 0
  fi
  stop_all
  rm -rf "$BASE/state" "$BASE/log" "$BASE/run" "$BASE/etc"
  mkdir -p "$BASE/etc" "$BASE/state/ctld" "$BASE/state/d" "$BASE/log" "$BASE/run"
  chmod 700 "$BASE/etc" "$BASE/run"
  head -c 1024 /dev/urandom >"$BASE/etc/munge.key"
  chmod 400 "$BASE/etc/munge.key"
  munged --force --key-file="$BASE/etc/munge.key" --socket="$MSOCK" --pid-file="$BASE/run/munged.pid" \
    --log-file="$BASE/log/munged.log" --seed-file="$BASE/state/munged.seed" || die "munged did not start (log: $BASE/log/munged.log)"
  write_conf
  SLURM_CONF=$CONF slurmctld || die "slurmctld did not start (log: $BASE/log/slurmctld.log)"
  SLURM_CONF=$CONF slurmd -N "$NODE" || die "slurmd did not start (log: $BASE/log/slurmd.log)"
  local st=''
  for i in $(seq 300); do
    st=$(T=5 slurm sinfo -h -n "$NODE" -o %t 2>/dev/null || true)
    case "$st" in idle | mix | alloc) break ;; down* | drain* | unk*) [ $((i % 20)) = 0 ] && T=5 slurm scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true ;; esac
    sleep 0.1
  done
  case "$st" in idle | mix | alloc) ;; *) die "node $NODE is '$st', not idle (logs in $BASE/log)" ;; esac
  start_sshd
  say "up: node $NODE idle, slurmctld :$CTLD_PORT, slurmd :$SLURMD_PORT, sshd 127.0.0.1:$SSHD_PORT (ssh -F $BASE/ssh/config slurm-local)"
  echo "export SLURM_CONF=$CONF"
}

status() {
  for d in munged slurmctld slurmd sshd; do
    if alive "$(pid_of $d)"; then say "$d running (pid $(pid_of $d))"; else say "$d not running"; fi
  done
  if healthy; then say "healthy; SLURM_CONF=$CONF"; else
    say "not healthy"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop)
    stop_all
    say "stopped (state kept in $BASE)"
    ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
