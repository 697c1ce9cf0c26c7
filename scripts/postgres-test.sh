#!/usr/bin/env bash
# A throwaway PostgreSQL server for the job-store tests of `gutjoint serve`.
#   eval "$(bash scripts/postgres-test.sh start DIR)"   # exports GUTJOINT_TEST_POSTGRES
#   bash scripts/postgres-test.sh stop DIR
# The cluster lives in DIR and listens only on a unix socket there (no TCP port, nothing to
# collide with). As root it runs as the `postgres` user that Debian's package creates.
set -euo pipefail
action=${1:?usage: postgres-test.sh start|stop DIR}
dir=${2:?usage: postgres-test.sh start|stop DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "postgres-test.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 1
fi
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$action" in
  start)
    mkdir -p "$dir"
    chmod 755 "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off" start >/dev/null
    echo "export GUTJOINT_TEST_POSTGRES='postgresql:///postgres?host=$dir&user=postgres'"
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: postgres-test.sh start|stop DIR" >&2
    exit 2
    ;;
esac
