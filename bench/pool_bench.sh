#!/usr/bin/env bash
# The worker pool, for D databases that each have one table whose
# partitions are managed (wallet_ops.max_workers = 2, naptime = $NAPTIME):
#   1. after a change in every database (the last partition made ahead is
#      dropped), the time until all D databases are served again, against
#      the bound health() documents: naptime * ceil(D / 2) + longest tick;
#   2. the idle cost over $IDLE_SECS s: CPU of the server's processes
#      (utime + stime of the postmaster's children, live and reaped, from
#      /proc) and the connections the workers made, against the peer
#      PostgreSQL itself runs for the same databases: autovacuum, with
#      autovacuum_naptime = naptime and autovacuum_max_workers = 2
#      (wallet_ops.enabled = off meanwhile), over the same window.
#
#   sudo PG_CONFIG=/path/to/pg_config bash bench/pool_bench.sh
#
# DBS (default "1 30 300"), NAPTIME (default 60), IDLE_SECS (default 180)
# change the sizes.  Prints figures and the ratio wallet_ops / autovacuum.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  exec sudo --preserve-env=PG_CONFIG,DBS,NAPTIME,IDLE_SECS,SKIP_BUILD bash "$0" "$@"
fi
sizes=${DBS:-1 30 300}
naptime=${NAPTIME:-60}
idle_secs=${IDLE_SECS:-180}
port=54341

. "$(dirname "$0")/lib.sh"

bench_build
bench_initdb "$port"
trap bench_stop EXIT
cat >> "$run/data/postgresql.conf" <<CONF
max_connections = 400
max_worker_processes = 8
wallet_ops.max_workers = 2
wallet_ops.naptime = $naptime
autovacuum = off
autovacuum_naptime = $naptime
autovacuum_max_workers = 2
fsync = off
CONF
bench_start
psql_db() { local db=$1; shift; as_pg psql -h "$run" -p $port -d "$db" -X -qAt -v ON_ERROR_STOP=1 "$@"; }
echo "PostgreSQL $(psql_db postgres -c 'SHOW server_version'), $(nproc) cores, block size $(psql_db postgres -c 'SHOW block_size')"

hz=$(getconf CLK_TCK)
postmaster=$(head -1 "$run/data/postmaster.pid")
# CPU ticks of the postmaster's children: reaped ones (cutime + cstime of
# the postmaster) plus the live ones
cluster_cpu() {
  local total live
  total=$(awk '{print $16 + $17}' "/proc/$postmaster/stat")
  for live in $(pgrep -P "$postmaster"); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$live/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
started() { psql_db db0001 -c 'SELECT workers_started FROM wallet_ops._worker_pool()'; }

made=0
for d in $sizes; do
  # databases db0001 .. db<d>, each with a managed table
  while [ "$made" -lt "$d" ]; do
    made=$((made + 1))
    db=$(printf 'db%04d' "$made")
    psql_db postgres -c "CREATE DATABASE $db"
    psql_db "$db" >/dev/null <<'SQL'
CREATE EXTENSION wallet_ops;
CREATE TABLE ev (at timestamptz NOT NULL, v int) PARTITION BY RANGE (at);
SELECT count(*) FROM wallet_ops.manage_partitions('ev', 'month', premake => 3);
SQL
  done
  dbs=$(seq -f 'db%04g' 1 "$d")
  echo
  echo "== $d database(s), naptime ${naptime} s, wallet_ops.max_workers 2"

  # 1. everyone served after a change
  for db in $dbs; do   # every database has had its first tick
    until [ "$(psql_db "$db" -c 'SELECT ticks > 0 FROM wallet_ops.worker_state')" = t ]; do sleep 1; done
  done
  declare -A dropped=()
  for db in $dbs; do
    dropped[$db]=$(psql_db "$db" -c "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'ev'::regclass AND c.relname <> 'ev_default' ORDER BY 1 DESC LIMIT 1")
    psql_db "$db" -c "DROP TABLE ${dropped[$db]}"
  done
  t0=$(date +%s.%N)
  left=$dbs
  while [ -n "$left" ]; do
    next=
    for db in $left; do
      [ "$(psql_db "$db" -c "SELECT to_regclass('${dropped[$db]}') IS NOT NULL")" = t ] || next="$next $db"
    done
    left=$next
    [ -z "$left" ] || sleep 0.1
  done
  served=$(echo "$(date +%s.%N) - $t0" | bc)
  bound=$(psql_db db0001 -c 'SELECT round(extract(epoch FROM tick_bound), 1) FROM wallet_ops._worker_state()')
  printf 'after a change: all %d served in %.1f s; bound %.1f s; ratio served / bound = %.3f\n' \
    "$d" "$served" "$bound" "$(echo "$served / $bound" | bc -l)"
  unset dropped

  # 2. idle cost: wallet_ops, then autovacuum alone over the same window
  c0=$(cluster_cpu); s0=$(started)
  sleep "$idle_secs"
  c1=$(cluster_cpu); s1=$(started)
  ours=$((c1 - c0)); conns=$((s1 - s0))
  psql_db postgres -c "ALTER SYSTEM SET wallet_ops.enabled = off" -c "ALTER SYSTEM SET autovacuum = on" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 2
  c0=$(cluster_cpu)
  sleep "$idle_secs"
  c1=$(cluster_cpu)
  theirs=$((c1 - c0))
  psql_db postgres -c "ALTER SYSTEM RESET wallet_ops.enabled" -c "ALTER SYSTEM RESET autovacuum" -c "SELECT pg_reload_conf()" >/dev/null
  printf 'idle %d s: wallet_ops %d ticks of CPU (1 tick = 1/%d s), %d worker connections (%.2f per database per naptime); autovacuum %d ticks; ratio wallet_ops / autovacuum = %s\n' \
    "$idle_secs" "$ours" "$hz" "$conns" "$(echo "$conns / $d / ($idle_secs / $naptime)" | bc -l)" "$theirs" \
    "$( [ "$theirs" -gt 0 ] && printf '%.2f' "$(echo "$ours / $theirs" | bc -l)" || echo "n/a (autovacuum 0)")"
done
