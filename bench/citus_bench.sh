#!/usr/bin/env bash
# bench/citus_bench.sh: verify_chain of the same rows on one node and on a
# Citus cluster of a coordinator and two workers (docs/citus.md), as a ratio;
# chain_digest of the same rows on each (the same Merkle root, checked).
#
#   sudo PG_CONFIG=/path/to/pg_config bash bench/citus_bench.sh
#
# PG_CONFIG must name an installation with Citus (scripts/build-citus.sh)
# and wallet_ops installed; ROWS, CHAINS, SHARDS and RUNS change the sizes.
# All four servers run on this machine: the two workers share its cores,
# so the ratio is bounded by the cores free, not by the number of workers.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROWS=${ROWS:-200000}
CHAINS=${CHAINS:-2000}
SHARDS=${SHARDS:-8}
RUNS=${RUNS:-5}

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

load="INSERT INTO ledger SELECT 1 + n % $CHAINS, n * 0.01, 'memo ' || n FROM generate_series(1, $ROWS) n"
q single -c "CREATE TABLE ledger (entity_id int NOT NULL, amount numeric, memo text)" \
         -c "SELECT wallet_ops.enable_hash_chain('ledger', '{entity_id}')" -c "$load" >/dev/null
q coord -c "CREATE TABLE ledger (entity_id int NOT NULL, amount numeric, memo text)" \
        -c "SELECT create_distributed_table('ledger', 'entity_id', shard_count => $SHARDS)" \
        -c "SELECT wallet_ops.enable_hash_chain('ledger', '{entity_id}')" -c "$load" >/dev/null
for n in single coord; do q $n -c "VACUUM ANALYZE ledger" >/dev/null 2>&1 || true; done

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
single=() dist=() dsingle=() ddist=()
for r in $(seq "$RUNS"); do
  single+=("$(timed single)")
  dist+=("$(timed coord)")
  read -r ms root1 <<<"$(digest_timed single)"; dsingle+=("$ms")
  read -r ms root2 <<<"$(digest_timed coord)"; ddist+=("$ms")
  [ "$root1" = "$root2" ] || { echo "citus_bench: the two digests differ" >&2; exit 1; }
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
ms1=$(median "${single[@]}")
ms2=$(median "${dist[@]}")
echo "rows=$ROWS chains=$CHAINS shards=$SHARDS runs=$RUNS cores=$(nproc)"
echo "verify_chain, one node:               ${ms1} ms (runs: ${single[*]})"
echo "verify_chain, coordinator + 2 workers: ${ms2} ms (runs: ${dist[*]})"
echo "chain_digest, one node:               $(median "${dsingle[@]}") ms (runs: ${dsingle[*]})"
echo "chain_digest, coordinator + 2 workers: $(median "${ddist[@]}") ms (runs: ${ddist[*]})"
awk -v a="$ms1" -v b="$ms2" 'BEGIN { printf "speed-up (one node / distributed): %.2f\n", a / b }'
