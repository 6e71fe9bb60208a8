#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine:
#   sudo bash scripts/demo.sh
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
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
  exec sudo --preserve-env=KEEP,PG_CONFIG bash "$0" "$@"
fi
"$top/scripts/install-deps.sh"

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)
cd "$top"
make -s PG_CONFIG="$PG_CONFIG" >/dev/null
make -s PG_CONFIG="$PG_CONFIG" install >/dev/null
bash "$top/scripts/link-verify.sh" "$bindir"

run=$(mktemp -d /tmp/wallet_ops-demo.XXXXXX)
chown postgres: "$run"
as_pg() { runuser -u postgres -- env PATH="$bindir:$PATH" "$@"; }
port=54330

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
  echo
  echo "################ $(basename "$f")"
  as_pg psql -h "$run" -p $port -d wallet_demo -X -v ON_ERROR_STOP=1 --echo-queries -P pager=off -f "$f" \
    -v verify_cmd="$bindir/wallet_ops_verify" -v host="$run" -v port="$port"
done
echo
echo "demo finished; server log: $( [ "${KEEP:-0}" = 1 ] && echo "$run/server.log" || echo removed )"
