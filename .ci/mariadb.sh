#!/usr/bin/env bash
# Installs (when missing) and starts a throwaway MariaDB server with its data dir in a temp folder,
# creates the test database and prints the connection URL on its last line.
# Usage: url=$(bash .ci/mariadb.sh | tail -n 1)
set -euo pipefail

port="${MARIADB_PORT:-33306}"
# Take the next free port if something already listens there.
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
if ! command -v mariadbd >/dev/null 2>&1; then
  echo "installing mariadb-server from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y mariadb-server >&2
fi

base="$(mktemp -d /tmp/wxhub-mariadb.XXXXXX)"
mkdir -p "$base/data"
echo "mariadb data dir: $base/data" >&2
mariadb-install-db --no-defaults --user=root --datadir="$base/data" --auth-root-authentication-method=normal \
  --skip-test-db >"$base/install.log" 2>&1 || { cat "$base/install.log" >&2; exit 1; }

mariadbd --no-defaults --user=root --datadir="$base/data" --socket="$base/mysqld.sock" \
  --port="$port" --bind-address=127.0.0.1 --pid-file="$base/mysqld.pid" \
  --log-error="$base/error.log" --innodb-buffer-pool-size=256M --max-connections=500 \
  --skip-log-bin >/dev/null 2>&1 &

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

mariadb --no-defaults --socket="$base/mysqld.sock" -uroot <<SQL
CREATE DATABASE IF NOT EXISTS wxhub_test CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'wxhub'@'127.0.0.1' IDENTIFIED BY 'wxhub';
GRANT ALL PRIVILEGES ON *.* TO 'wxhub'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
echo "$base" >/tmp/wxhub-mariadb.last
echo "mariadb $(mariadbd --version | awk '{print $3}') listening on 127.0.0.1:$port" >&2
echo "mysql://wxhub:wxhub@127.0.0.1:$port/wxhub_test"
