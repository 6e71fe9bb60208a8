#!/usr/bin/env bash
# bench/citus_bench.sh: verify_chain of the same rows on one node and on a
# Citus cluster of a coordinator and two workers (docs/citus.md), as a ratio;
# chain_digest of the same rows on each (the same Merkle root, checked);
# and, on the cluster, manage_partitions against Citus's own
# create_time_partitions for the same number of daily partitions of a
# distributed table.
#
#   sudo PG_CONFIG=/path/to/pg_config bash bench/citus_bench.sh
#
# PG_CONFIG must name an installation with Citus (scripts/build-citus.sh)
# and wallet_ops installed; ROWS, CHAINS, SHARDS and RUNS change the sizes,
# PARTS the number of partitions; PARTS=0 skips the partitions, ROWS=0 the
# verification.
# All four servers run on this machine: the two workers share its cores,
# so the ratio is bounded by the cores free, not by the number of workers.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROWS=${ROWS:-200000}
CHAINS=${CHAINS:-2000}
SHARDS=${SHARDS:-8}
RUNS=${RUNS:-5}
PARTS=${PARTS:-30}

if [ ! -f "$("$PG_CONFIG" --pkglibdir)/citus.so" ]; then
  echo "citus_bench: Citus is not installed in $("$PG_CONFIG" --pkglibdir) (scripts/build-citus.sh)" >&2
  exit 1
fi
bench_build

run=$(mktemp -d /tmp/wallet_ops-citus-bench.XXXXXX)
[ "$(id -u)" -eq 0 ] && chown postgres: "$run"
nodes=(single coord w1 w2)
declare -A port=([single]=54361 [coord]=54362 [w1]=54363 [w2]=54364)
stop_all() {
  for n in "${nodes[@]}"; do
    [ -f "$run/$n/postmaster.pid" ] && as_pg pg_ctl -D "$run/$n" -m immediate -w stop >/dev/null 2>&1 || true
  done
  rm -rf "$run"
}
trap stop_all EXIT

for n in "${nodes[@]}"; do
  as_pg initdb -D "$run/$n" -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null
  cat >> "$run/$n/postgresql.conf" <<CONF
shared_preload_libraries = 'citus,wallet_ops'
wallet_ops.naptime = 3600
listen_addresses = ''
unix_socket_directories = '$run'
port = ${port[$n]}
max_prepared_transactions = 100
citus.node_conninfo = 'sslmode=disable'
citus.local_hostname = '$run'
CONF
  as_pg pg_ctl -D "$run/$n" -l "$run/$n.log" -w start >/dev/null
  as_pg psql -h "$run" -p "${port[$n]}" -d postgres -qc 'CREATE EXTENSION citus; CREATE EXTENSION wallet_ops'
done
q() { local n=$1; shift; as_pg psql -h "$run" -p "${port[$n]}" -d postgres -qAtX -v ON_ERROR_STOP=1 "$@"; }
q coord -c "SELECT citus_set_coordinator_host('$run', ${port[coord]})" >/dev/null
q coord -c "SELECT citus_add_node('$run', ${port[w1]})" -c "SELECT citus_add_node('$run', ${port[w2]})" >/dev/null

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
echo "rows=$ROWS chains=$CHAINS shards=$SHARDS parts=$PARTS runs=$RUNS cores=$(nproc)"

# milliseconds of one verify_chain, checked clean
timed() {
  q "$1" -f - <<'SQL'
SELECT extract(epoch FROM clock_timestamp()) * 1000 AS t0 \gset
SELECT count(*) = 0 AS clean FROM wallet_ops.verify_chain('ledger') \gset
SELECT CASE WHEN :'clean' THEN round(extract(epoch FROM clock_timestamp()) * 1000 - :t0) ELSE -1 END;
SQL
}
# milliseconds of one chain_digest (its Merkle root printed once, to compare)
digest_timed() {
  q "$1" -f - <<'SQL'
SELECT extract(epoch FROM clock_timestamp()) * 1000 AS t0 \gset
SELECT wallet_ops.chain_digest('ledger')->>'merkle_root' AS root \gset
SELECT round(extract(epoch FROM clock_timestamp()) * 1000 - :t0) || ' ' || :'root';
SQL
}

if [ "$ROWS" -gt 0 ]; then
  load="INSERT INTO ledger SELECT 1 + n % $CHAINS, n * 0.01, 'memo ' || n FROM generate_series(1, $ROWS) n"
  q single -c "CREATE TABLE ledger (entity_id int NOT NULL, amount numeric, memo text)" \
           -c "SELECT wallet_ops.enable_hash_chain('ledger', '{entity_id}')" -c "$load" >/dev/null
  q coord -c "CREATE TABLE ledger (entity_id int NOT NULL, amount numeric, memo text)" \
          -c "SELECT create_distributed_table('ledger', 'entity_id', shard_count => $SHARDS)" \
          -c "SELECT wallet_ops.enable_hash_chain('ledger', '{entity_id}')" -c "$load" >/dev/null
  for n in single coord; do q $n -c "VACUUM ANALYZE ledger" >/dev/null 2>&1 || true; done

  single=() dist=() dsingle=() ddist=()
  for r in $(seq "$RUNS"); do
    single+=("$(timed single)")
    dist+=("$(timed coord)")
    read -r ms root1 <<<"$(digest_timed single)"; dsingle+=("$ms")
    read -r ms root2 <<<"$(digest_timed coord)"; ddist+=("$ms")
    [ "$root1" = "$root2" ] || { echo "citus_bench: the two digests differ" >&2; exit 1; }
  done
  ms1=$(median "${single[@]}")
  ms2=$(median "${dist[@]}")
  echo "verify_chain, one node:               ${ms1} ms (runs: ${single[*]})"
  echo "verify_chain, coordinator + 2 workers: ${ms2} ms (runs: ${dist[*]})"
  echo "chain_digest, one node:               $(median "${dsingle[@]}") ms (runs: ${dsingle[*]})"
  echo "chain_digest, coordinator + 2 workers: $(median "${ddist[@]}") ms (runs: ${ddist[*]})"
  awk -v a="$ms1" -v b="$ms2" 'BEGIN { printf "speed-up (one node / distributed): %.2f\n", a / b }'
fi

# PARTS daily partitions of an empty distributed table, made by
# manage_partitions (premake PARTS - 1, and its default partition) and by
# create_time_partitions (PARTS days from today), each on a table of its
# own made afresh every run; milliseconds, the number made checked
parts_timed() {
  q coord -v parts="$PARTS" -v how="$1" -v shards="$SHARDS" -f - <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS ev_bench;
CREATE TABLE ev_bench (entity_id int NOT NULL, at timestamptz NOT NULL, memo text) PARTITION BY RANGE (at);
SELECT create_distributed_table('ev_bench', 'entity_id', shard_count => :shards) \gset
SELECT extract(epoch FROM clock_timestamp()) * 1000 AS t0 \gset
SELECT CASE WHEN :'how' = 'wallet_ops'
            THEN (SELECT count(*) FROM wallet_ops.manage_partitions('ev_bench', 'day', :parts - 1))::text
            ELSE create_time_partitions('ev_bench', '1 day', date_trunc('day', now()) + :parts * interval '1 day',
                                        date_trunc('day', now()))::text END \gset
SELECT round(extract(epoch FROM clock_timestamp()) * 1000 - :t0) || ' ' ||
       (SELECT count(*) FROM pg_inherits i JOIN pg_dist_partition p ON p.logicalrelid = i.inhrelid
         WHERE i.inhparent = 'ev_bench'::regclass);
SELECT count(wallet_ops.unmanage_partitions('ev_bench')) AS unmanaged FROM wallet_ops.partition_config
 WHERE relid = 'ev_bench'::regclass \gset
DROP TABLE ev_bench;
SQL
}
if [ "$PARTS" -gt 0 ]; then
  pw=() pc=()
  for r in $(seq "$RUNS"); do
    read -r ms n <<<"$(parts_timed wallet_ops)"; pw+=("$ms")
    [ "$n" -eq $((PARTS + 1)) ] || { echo "citus_bench: manage_partitions made $n distributed partitions" >&2; exit 1; }
    read -r ms n <<<"$(parts_timed citus)"; pc+=("$ms")
    [ "$n" -eq "$PARTS" ] || { echo "citus_bench: create_time_partitions made $n distributed partitions" >&2; exit 1; }
  done
  mw=$(median "${pw[@]}") mc=$(median "${pc[@]}")
  echo "manage_partitions, $PARTS days + default:  ${mw} ms (runs: ${pw[*]})"
  echo "create_time_partitions, $PARTS days:       ${mc} ms (runs: ${pc[*]})"
  awk -v a="$mw" -v b="$mc" -v n="$PARTS" 'BEGIN { printf "ratio (manage_partitions / create_time_partitions): %.2f; per partition: %.1f ms and %.1f ms\n", a / b, a / (n + 1), b / n }'
fi
