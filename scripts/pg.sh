#!/usr/bin/env bash
# A throw-away PostgreSQL server for trying MedVault on PostgreSQL by hand (the test suite starts its own,
# see tests/fixtures_db.py). Listens only on a Unix socket inside DIR; trust authentication; no TCP port.
#   scripts/pg.sh start DIR   initdb (first time) and start; prints the MEDVAULT_DATABASE_URL to use
#   scripts/pg.sh stop DIR    stop it (rm -rf DIR afterwards removes everything)
# The server binaries come from Debian's `postgresql` package (scripts/system-deps.sh installs it as root).
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[[ -n $cmd && -n $dir ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[[ -x $bin/initdb ]] || { echo "PostgreSQL is not installed: run scripts/system-deps.sh as root" >&2; exit 1; }
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
as_owner=()
if [[ $(id -u) -eq 0 ]]; then  # initdb refuses root: the cluster belongs to the postgres OS user
  chown postgres:postgres "$dir"
  as_owner=(runuser -u postgres --)
fi
case $cmd in
  start)
    [[ -f $dir/data/PG_VERSION ]] || "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 >/dev/null
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" status >/dev/null \
      || "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
           -o "-c listen_addresses='' -k $dir" start >/dev/null
    "${as_owner[@]}" "$bin/psql" -h "$dir" -U postgres -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'medvault'" | grep -q 1 \
      || "${as_owner[@]}" "$bin/createdb" -h "$dir" -U postgres medvault
    echo "MEDVAULT_DATABASE_URL=postgresql+psycopg://postgres@/medvault?host=$dir"
    ;;
  stop) "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null && echo "stopped" ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
