#!/usr/bin/env bash
# Starts two throwaway MariaDB servers, a primary writing a binary log and a replica reading it
# (classic binlog replication: CHANGE MASTER TO a file and position), for the read-replica tests
# (DATABASE_READ_URL). Data dirs in temp folders; the replica runs read-only with user statistics
# on (information_schema.USER_STATISTICS), so tests can count the queries each user ran there.
# Prints "<primary url> <replica url>" on its last line; both log in as wxhub, who may create
# databases and users on the primary (they replicate) and may stop and start the replica's SQL
# thread (to make lag visible).
# Usage: read -r primary replica < <(bash .ci/mariadb-replica.sh | tail -n 1)
set -euo pipefail

free_port() {
  local port="$1"
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

if ! command -v mariadbd >/dev/null 2>&1; then
  echo "installing mariadb-server from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y mariadb-server >&2
fi

primary_port="$(free_port "${MARIADB_PRIMARY_PORT:-33406}")"
replica_port="$(free_port "${MARIADB_REPLICA_PORT:-$((primary_port + 1))}")"
if [ "$replica_port" = "$primary_port" ]; then replica_port="$(free_port $((primary_port + 1)))"; fi

# A failed start stops the servers it started (their folders are listed here as they start).
started="$(mktemp /tmp/wxhub-mariadb-replica-started.XXXXXX)"
stop_started() {
  while read -r dir; do
    if [ -f "$dir/mysqld.pid" ]; then kill "$(cat "$dir/mysqld.pid")" 2>/dev/null || true; fi
  done <"$started"
}
trap 'stop_started' ERR

# start_server <name> <port> <extra mariadbd options...>: prints its base folder.
start_server() {
  local name="$1" port="$2"
  shift 2
  local base
  base="$(mktemp -d "/tmp/wxhub-mariadb-$name.XXXXXX")"
  mkdir -p "$base/data"
  mariadb-install-db --no-defaults --user=root --datadir="$base/data" \
    --auth-root-authentication-method=normal --skip-test-db >"$base/install.log" 2>&1 || {
    cat "$base/install.log" >&2
    exit 1
  }
  mariadbd --no-defaults --user=root --datadir="$base/data" --socket="$base/mysqld.sock" \
    --port="$port" --bind-address=127.0.0.1 --pid-file="$base/mysqld.pid" \
    --log-error="$base/error.log" --innodb-buffer-pool-size=128M --max-connections=300 \
    "$@" >/dev/null 2>&1 &
  echo "$base" >>"$started"
  for _ in $(seq 1 60); do
    if mariadb --no-defaults --socket="$base/mysqld.sock" -uroot -e 'select 1' >/dev/null 2>&1; then
      break
    fi
    sleep 0.5
  done
  mariadb --no-defaults --socket="$base/mysqld.sock" -uroot -e 'select 1' >/dev/null || {
    cat "$base/error.log" >&2
    exit 1
  }
  echo "$base"
}

primary="$(start_server primary "$primary_port" --server-id=1 --log-bin=binlog \
  --binlog-format=ROW)"
replica="$(start_server replica "$replica_port" --server-id=2 --skip-log-bin --read-only \
  --userstat=1 --relay-log=relay)"
# Both folders, for the caller's cleanup (the pid files are in them).
printf '%s\n%s\n' "$primary" "$replica" >/tmp/wxhub-mariadb-replica.last

on_primary() { mariadb --no-defaults --socket="$primary/mysqld.sock" -uroot "$@"; }
on_replica() { mariadb --no-defaults --socket="$replica/mysqld.sock" -uroot "$@"; }

# The replication user, then the position everything after it replicates from.
on_primary <<SQL
CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
SQL
read -r file pos < <(on_primary -N -e 'SHOW MASTER STATUS' | awk '{print $1, $2}')
on_replica <<SQL
CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$primary_port,
  MASTER_USER='repl', MASTER_PASSWORD='repl',
  MASTER_LOG_FILE='$file', MASTER_LOG_POS=$pos, MASTER_CONNECT_RETRY=1;
START SLAVE;
SQL

# Made on the primary only: the replica gets them through the binary log.
on_primary <<SQL
CREATE DATABASE IF NOT EXISTS wxhub_test CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'wxhub'@'127.0.0.1' IDENTIFIED BY 'wxhub';
GRANT ALL PRIVILEGES ON *.* TO 'wxhub'@'127.0.0.1' WITH GRANT OPTION;
SQL
read -r file pos < <(on_primary -N -e 'SHOW MASTER STATUS' | awk '{print $1, $2}')
waited="$(on_replica -N -e "SELECT MASTER_POS_WAIT('$file', $pos, 30)")"
if [ "$waited" = "NULL" ] || [ "$waited" = "-1" ]; then
  on_replica -e 'SHOW SLAVE STATUS\G' >&2
  cat "$replica/error.log" >&2
  exit 1
fi

trap - ERR
rm -f "$started"
version="$(mariadbd --version | awk '{print $3}')"
echo "mariadb $version primary on 127.0.0.1:$primary_port, replica on :$replica_port" >&2
echo "mysql://wxhub:wxhub@127.0.0.1:$primary_port/wxhub_test" \
  "mysql://wxhub:wxhub@127.0.0.1:$replica_port/wxhub_test"
