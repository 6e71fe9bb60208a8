#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine:
#   bash scripts/demo.sh        (as root, or it asks sudo)
# installs the packages it needs, builds and installs wallet_ops, starts a
# throw-away cluster with shared_preload_libraries = 'wallet_ops', loads the
# seed's schema (entity_history by month, audit_log by quarter,
# mv_effective_access) and runs demo/*.sql against it, then removes the
# cluster.  It also links wallet_ops_verify into /usr/local/bin, so that it
# runs by name (scripts/link-verify.sh).
#
#   KEEP=1 bash scripts/demo.sh
#
# leaves the cluster running and prints how to connect to it, for the
# README's quick tour.
#
# The demo tells its story in one short line per step, with the figure
# that matters (under 60 lines, t/074_demo.pl); VERBOSE=1 shows every
# statement and its output as well.  Steps are the \echo lines of
# demo/*.sql; everything else goes to $run/demo.log and is shown if a step
# fails.
#
#   PG_CONFIG=/path/to/pg_config   build and install for that PostgreSQL
#                                  (default: Debian's 15).  When its
#                                  directories are yours, as in a copy
#                                  made by scripts/private-pg.sh, no root is
#                                  needed and the cluster runs as you
#   DEMO_PORT=N                    the cluster's port (default 54330)
#   SKIP_DEPS=1                    skip the apt step
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
if [ "$(id -u)" -ne 0 ] && ! { [ -x "$PG_CONFIG" ] && [ -w "$("$PG_CONFIG" --pkglibdir)" ]; }; then
  exec sudo --preserve-env=KEEP,PG_CONFIG,VERBOSE,DEMO_PORT,SKIP_DEPS bash "$0" "$@"
fi
[ "${SKIP_DEPS:-0}" = 1 ] || "$top/scripts/install-deps.sh"

bindir=$("$PG_CONFIG" --bindir)
cd "$top"
make -s PG_CONFIG="$PG_CONFIG" >/dev/null
make -s PG_CONFIG="$PG_CONFIG" install >/dev/null
bash "$top/scripts/link-verify.sh" "$bindir"

run=$(mktemp -d /tmp/wallet_ops-demo.XXXXXX)
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$run"
  as_pg() { runuser -u postgres -- env PATH="$bindir:$PATH" "$@"; }
else
  chmod 755 "$run"
  as_pg() { env PATH="$bindir:$PATH" "$@"; }
fi
port=54330
[ -z "${DEMO_PORT:-}" ] || port=$DEMO_PORT
export PGUSER=postgres   # the superuser initdb -U makes, whoever runs the demo

as_pg initdb -D "$run/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null
cat >> "$run/data/postgresql.conf" <<CONF
shared_preload_libraries = 'wallet_ops'
wallet_ops.naptime = 2
listen_addresses = ''
unix_socket_directories = '$run'
port = $port
CONF
as_pg pg_ctl -D "$run/data" -l "$run/server.log" -w start >/dev/null
cleanup() {
  if [ "${KEEP:-0}" = 1 ]; then
    # the socket directory is the postgres user's: root connects
    local sudo= psql=psql
    [ -n "${SUDO_USER:-}" ] && sudo="sudo "
    command -v psql >/dev/null || psql=$bindir/psql
    echo
    echo "cluster left running (KEEP=1); connect with"
    echo "  ${sudo}$psql -h $run -p $port -U postgres wallet_demo"
    echo "the README's quick tour runs in a database of its own, from the repository root:"
    echo "  cd $top && ${sudo}$psql -h $run -p $port -U postgres -c 'CREATE DATABASE tour' && ${sudo}$psql -h $run -p $port -U postgres tour"
    echo "stop the cluster with"
    echo "  ${sudo}runuser -u postgres -- $bindir/pg_ctl -D $run/data stop"
  else
    as_pg pg_ctl -D "$run/data" -m fast -w stop >/dev/null || true
    rm -rf "$run"
  fi
}
trap cleanup EXIT

as_pg psql -h "$run" -p $port -d postgres -qc "CREATE DATABASE wallet_demo"
for f in "$top"/demo/[0-9]*.sql; do
  psql_args=(-h "$run" -p $port -d wallet_demo -X -v ON_ERROR_STOP=1 -P pager=off
             -v verify_cmd="$bindir/wallet_ops_verify" -v host="$run" -v port="$port")
  if [ "${VERBOSE:-0}" = 1 ]; then
    echo
    echo "################ $(basename "$f")"
    as_pg psql "${psql_args[@]}" --echo-queries -f "$f"
  elif ! as_pg psql "${psql_args[@]}" -q -c '\o /dev/null' -f "$f" 2>>"$run/demo.log"; then
    tail -n 20 "$run/demo.log" >&2
    echo "demo step $(basename "$f") failed; VERBOSE=1 shows every statement" >&2
    exit 1
  fi
done
echo "demo finished; server log: $( [ "${KEEP:-0}" = 1 ] && echo "$run/server.log" || echo removed )"
