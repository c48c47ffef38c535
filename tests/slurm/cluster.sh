#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, for the SLURM end-to-end test.
#
#   tests/slurm/cluster.sh install   Debian packages: slurmctld, slurmd, munge, slurmdbd, MariaDB
#   tests/slurm/cluster.sh start     write configs, start every daemon, wait for the node
#   tests/slurm/cluster.sh stop      stop every daemon started by `start`
#
# The configs go where SLURM's commands look without being told, /etc/slurm (inside a job,
# snakemake's jobstep plugin drops SLURM_CONF before calling srun, as on a real cluster);
# an /etc/slurm/slurm.conf not written by this script is never overwritten. Everything else
# lives under $INFUSION_SLURM_DIR (default /tmp/infusion-slurm): state, logs, the MariaDB
# data directory and the fake GPUs. Needs root (the daemons run as root).
#
# Accounting is on (slurmdbd + MariaDB) because snakemake-executor-plugin-slurm polls job
# state with `sacct`. The node advertises $INFUSION_SLURM_GPUS fake GPUs: gres.conf points
# `Name=gpu` at character devices made with mknod (copies of /dev/null), so jobs that ask
# for `--gpus` run on this CPU-only node and SLURM still records the allocation.
set -euo pipefail

DIR=${INFUSION_SLURM_DIR:-/tmp/infusion-slurm}
GPUS=${INFUSION_SLURM_GPUS:-4}
CLUSTER=infusion
ACCOUNT=infusion
PARTITION=debug
HOST=$(hostname -s)
ETC=/etc/slurm
MARKER="# Written by infusion-repro's tests/slurm/cluster.sh: a single-node test cluster."

log() { echo "[slurm-cluster] $*" >&2; }

install_packages() {
    local missing=()
    for cmd in slurmctld slurmd slurmdbd munged mariadbd; do
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "packages already installed"
        return
    fi
    log "installing Debian packages (missing: ${missing[*]})"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q slurm-wlm slurmdbd mariadb-server munge >/dev/null
}

write_configs() {
    if [ -f "$ETC/slurm.conf" ] && ! grep -qF "$MARKER" "$ETC/slurm.conf"; then
        log "$ETC/slurm.conf exists and was not written by this script: not touching it"
        exit 1
    fi
    mkdir -p "$ETC" "$DIR"/{state/ctld,state/d,log,run,munge,mysql,gpu}
    local cpus=$(nproc)
    # The node declares 64 GB whatever it has (SlurmdParameters=config_overrides), so that the
    # SLURM profile's production memory requests (up to 48 GB) fit; nothing enforces memory
    # here (no cgroups), and the tiny study needs little.
    local mem_mb=65536
    for ((i = 0; i < GPUS; i++)); do
        [ -e "$DIR/gpu/gpu$i" ] || mknod "$DIR/gpu/gpu$i" c 1 3
    done

    cat >"$ETC/slurm.conf" <<EOF
$MARKER
ClusterName=$CLUSTER
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$DIR/run/munge.socket
CryptoType=crypto/munge
StateSaveLocation=$DIR/state/ctld
SlurmdSpoolDir=$DIR/state/d
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePass=$DIR/run/munge.socket
AccountingStorageTRES=gres/gpu
AccountingStorageEnforce=associations
# sacct shows the comment snakemake gives each job (its rule and wildcards).
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=300
InactiveLimit=0
KillWait=10
NodeName=$HOST CPUs=$cpus RealMemory=$mem_mb Gres=gpu:$GPUS State=UNKNOWN
PartitionName=$PARTITION Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
    {
        for ((i = 0; i < GPUS; i++)); do
            echo "NodeName=$HOST Name=gpu File=$DIR/gpu/gpu$i"
        done
    } >"$ETC/gres.conf"
    cat >"$ETC/slurmdbd.conf" <<EOF
$MARKER
AuthType=auth/munge
AuthInfo=socket=$DIR/run/munge.socket
DbdHost=localhost
SlurmUser=root
PidFile=$DIR/run/slurmdbd.pid
LogFile=$DIR/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=3306
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
EOF
    chmod 600 "$ETC/slurmdbd.conf"
}

start_munge() {
    local key=$DIR/munge/munge.key
    [ -f "$key" ] || { dd if=/dev/urandom of="$key" bs=1 count=1024 status=none && chmod 400 "$key"; }
    if [ -S "$DIR/run/munge.socket" ] && munge -n -S "$DIR/run/munge.socket" >/dev/null 2>&1; then
        return
    fi
    munged --force --key-file="$key" --socket="$DIR/run/munge.socket" \
        --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" \
        --seed-file="$DIR/munge/munged.seed"
    munge -n -S "$DIR/run/munge.socket" | unmunge -S "$DIR/run/munge.socket" >/dev/null
    log "munge is up"
}

start_mariadb() {
    local sock=$DIR/run/mysqld.sock
    if ! [ -d "$DIR/mysql/mysql" ]; then
        mariadb-install-db --user=root --datadir="$DIR/mysql" --auth-root-authentication-method=socket \
            >"$DIR/log/mariadb-install.log" 2>&1
    fi
    if ! mariadb-admin --socket="$sock" ping >/dev/null 2>&1; then
        mariadbd --user=root --datadir="$DIR/mysql" --socket="$sock" --port=3306 \
            --bind-address=127.0.0.1 --pid-file="$DIR/run/mysqld.pid" \
            --log-error="$DIR/log/mariadb.log" >/dev/null 2>&1 &
        wait_for "MariaDB" mariadb-admin --socket="$sock" ping
    fi
    mariadb --socket="$sock" -u root <<'EOF'
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm';
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
FLUSH PRIVILEGES;
EOF
    log "MariaDB is up"
}

wait_for() {
    local what=$1
    shift
    for _ in $(seq 1 60); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 1
    done
    log "$what did not come up within 60 s; logs are in $DIR/log"
    tail -n 20 "$DIR"/log/*.log >&2 || true
    exit 1
}

start_slurm() {
    pgrep -x slurmdbd >/dev/null || slurmdbd
    wait_for "slurmdbd" sacctmgr -i show cluster
    # Register the cluster, an account and root's association (idempotent).
    sacctmgr -i add cluster "$CLUSTER" >/dev/null 2>&1 || true
    sacctmgr -i add account "$ACCOUNT" cluster="$CLUSTER" \
        description="infusion-repro tests" organization=infusion >/dev/null 2>&1 || true
    sacctmgr -i add user root account="$ACCOUNT" cluster="$CLUSTER" \
        defaultaccount="$ACCOUNT" >/dev/null 2>&1 || true
    pgrep -x slurmctld >/dev/null || slurmctld
    pgrep -x slurmd >/dev/null || slurmd
    wait_for "the node" bash -c "sinfo -h -N -o %T | grep -q -E '^(idle|mixed|allocated)'"
    log "cluster '$CLUSTER' is up: node $HOST, $(nproc) CPUs, $GPUS fake GPUs, partition $PARTITION"
}

stop_all() {
    for daemon in slurmd slurmctld slurmdbd mysqld munged; do
        local pidfile=$DIR/run/$daemon.pid
        if [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null; then
            log "stopped $daemon"
        fi
    done
}

case "${1:-}" in
install) install_packages ;;
start)
    [ "$(id -u)" -eq 0 ] || { log "must run as root"; exit 1; }
    write_configs
    start_munge
    start_mariadb
    start_slurm
    ;;
stop) stop_all ;;
*)
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
