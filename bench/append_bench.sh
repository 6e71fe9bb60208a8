#!/usr/bin/env bash
# INSERT throughput into an append-only table against the same table
# unprotected, measured in the same run on a scratch cluster this script
# starts and stops itself:
#   - bulk: INSERT ... SELECT of ROWS rows (default 200000), RUNS times each.
#     (default 9), alternating which table goes first;
#   - statement loop: LOOP (default 50000) single-row INSERT statements in
#     one server-side loop, ABBA likewise: the per-statement cost (executor
#     start-up copies the trigger descriptors) without client noise;
#   - pgbench: single-row INSERTs by CLIENTS clients (default 2) for SECS
#     seconds (default 5), once per table per run, alternating the order.
# Both tables have the shape of the seed's audit_log (identity, jsonb,
# quarterly partitions).  Prints, for each, the medians and the
# protected/unprotected throughput ratio, both as the ratio of the medians
# and as the median of the per-run ratios (runs are paired, so the latter
# is the less sensitive to load from other processes); 1.00 = no cost, the
# target is at least 0.95.
#
#   sudo bash bench/append_bench.sh        (PG_CONFIG=... selects the install)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)
RUNS=${RUNS:-9}
ROWS=${ROWS:-200000}
SECS=${SECS:-5}
CLIENTS=${CLIENTS:-2}
LOOP=${LOOP:-50000}
PORT=${PORT:-54341}

if [ "$(id -u)" -eq 0 ]; then
  as_pg() { runuser -u postgres -- env PATH="$bindir:$PATH" "$@"; }
else
  as_pg() { env PATH="$bindir:$PATH" "$@"; }
fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$top" && make -s PG_CONFIG="$PG_CONFIG" >/dev/null && make -s PG_CONFIG="$PG_CONFIG" install >/dev/null)
fi

run=$(mktemp -d /tmp/wallet_ops-bench.XXXXXX)
[ "$(id -u)" -eq 0 ] && chown postgres: "$run"
as_pg initdb -D "$run/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null
cat >> "$run/data/postgresql.conf" <<CONF
shared_preload_libraries = 'wallet_ops'
wallet_ops.naptime = 3600
listen_addresses = ''
unix_socket_directories = '$run'
port = $PORT
synchronous_commit = off
shared_buffers = 256MB
max_wal_size = 4GB
CONF
as_pg pg_ctl -D "$run/data" -l "$run/server.log" -w start >/dev/null
cleanup() {
  as_pg pg_ctl -D "$run/data" -m fast -w stop >/dev/null || true
  rm -rf "$run"
}
trap cleanup EXIT

psql_() { as_pg psql -h "$run" -p "$PORT" -d postgres -X -q -v ON_ERROR_STOP=1 "$@"; }

psql_ >/dev/null <<'SQL'
CREATE EXTENSION wallet_ops;
DO $$
DECLARE
    t text;
    q int;
BEGIN
    FOREACH t IN ARRAY ARRAY['log_plain', 'log_protected'] LOOP
        EXECUTE format('CREATE TABLE %I (
            audit_id    bigint GENERATED ALWAYS AS IDENTITY,
            occurred_at timestamptz NOT NULL,
            actor       text NOT NULL,
            action      text NOT NULL,
            details     jsonb,
            PRIMARY KEY (audit_id, occurred_at)) PARTITION BY RANGE (occurred_at)', t);
        FOR q IN 1..4 LOOP
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                           t || '_q' || q, t,
                           make_date(2026, 3 * q - 2, 1), make_date(2026, 3 * q - 2, 1) + interval '3 months');
        END LOOP;
    END LOOP;
END
$$;
SELECT wallet_ops.enforce_append_only('log_protected');
-- loop_<table>(n): n single-row INSERT statements (plans cached), seconds
DO $do$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['log_plain', 'log_protected'] LOOP
        EXECUTE format($f$
            CREATE FUNCTION %I(n int) RETURNS float8 LANGUAGE plpgsql AS $b$
            DECLARE
                t0 timestamptz := clock_timestamp();
            BEGIN
                FOR i IN 1..n LOOP
                    INSERT INTO %I (occurred_at, actor, action, details)
                    VALUES (timestamptz '2026-01-01 UTC' + (i %% 360) * interval '1 day',
                            'ingest', 'wallet.update', '{"n": 1}');
                END LOOP;
                RETURN extract(epoch FROM clock_timestamp() - t0);
            END
            $b$$f$, 'loop_' || t, t);
        EXECUTE format($f$
            CREATE FUNCTION %I(n int) RETURNS float8 LANGUAGE plpgsql AS $b$
            DECLARE
                t0 timestamptz := clock_timestamp();
            BEGIN
                INSERT INTO %I (occurred_at, actor, action, details)
                SELECT timestamptz '2026-01-01 UTC' + (i %% 360) * interval '1 day',
                       'ingest', 'wallet.update', jsonb_build_object('n', i, 'note', 'bench')
                  FROM generate_series(1, n) i;
                RETURN extract(epoch FROM clock_timestamp() - t0);
            END
            $b$$f$, 'bulk_' || t, t);
    END LOOP;
END
$do$;
SQL

# seconds (measured by the server) for one INSERT ... SELECT of ROWS rows
bulk_once() {
  psql_ -At -c "SELECT bulk_$1($ROWS)"
}

for t in log_plain log_protected; do
  cat > "$run/$t.sql" <<SQL
\set d random(0, 359)
INSERT INTO $t (occurred_at, actor, action, details)
VALUES (timestamptz '2026-01-01 UTC' + :d * interval '1 day', 'ingest', 'wallet.update', '{"n": 1}');
SQL
done
[ "$(id -u)" -eq 0 ] && chown postgres: "$run"/*.sql

# seconds (measured by the server) for LOOP single-row INSERT statements in
# one session: the per-statement cost, without client round trips
loop_once() {
  psql_ -At -c "SELECT loop_$1($LOOP)"
}

tps_once() {
  as_pg pgbench -h "$run" -p "$PORT" -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$SECS" \
    -f "$run/$1.sql" postgres 2>/dev/null |
    sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# warm-up
bulk_once log_plain >/dev/null; bulk_once log_protected >/dev/null

plain_s=(); prot_s=(); plain_tps=(); prot_tps=(); bulk_ratio=(); tps_ratio=(); plain_l=(); prot_l=(); loop_ratio=()
for i in $(seq 1 "$RUNS"); do
  # ABBA within a run, and the pairs alternate between runs, so that load
  # drifting during a run weighs on both tables alike
  if [ $((i % 2)) -eq 1 ]; then order="log_plain log_protected"; else order="log_protected log_plain"; fi
  abba="$order $(echo "$order" | awk '{print $2, $1}')"
  declare -A bs=([log_plain]=0 [log_protected]=0) ls=([log_plain]=0 [log_protected]=0)
  for t in $abba; do
    bs[$t]=$(echo "${bs[$t]} + $(bulk_once "$t") / 2" | bc -l)
  done
  for t in $abba; do
    ls[$t]=$(echo "${ls[$t]} + $(loop_once "$t") / 2" | bc -l)
  done
  plain_s+=("${bs[log_plain]}"); prot_s+=("${bs[log_protected]}")
  plain_l+=("${ls[log_plain]}"); prot_l+=("${ls[log_protected]}")
  for t in $order; do
    r=$(tps_once "$t")
    if [ "$t" = log_plain ]; then plain_tps+=("$r"); else prot_tps+=("$r"); fi
  done
  bulk_ratio+=("$(echo "${plain_s[-1]} / ${prot_s[-1]}" | bc -l)")
  tps_ratio+=("$(echo "${prot_tps[-1]} / ${plain_tps[-1]}" | bc -l)")
  loop_ratio+=("$(echo "${plain_l[-1]} / ${prot_l[-1]}" | bc -l)")
  printf 'run %d: bulk %.3f/%.3f s (ratio %.3f); statement loop %.3f/%.3f s (ratio %.3f); pgbench %.0f/%.0f tps (ratio %.3f)  [unprotected/protected]\n' \
    "$i" "${plain_s[-1]}" "${prot_s[-1]}" "${bulk_ratio[-1]}" "${plain_l[-1]}" "${prot_l[-1]}" "${loop_ratio[-1]}" \
    "${plain_tps[-1]}" "${prot_tps[-1]}" "${tps_ratio[-1]}"
done

mp=$(printf '%s\n' "${plain_s[@]}" | median)
mq=$(printf '%s\n' "${prot_s[@]}" | median)
tp=$(printf '%s\n' "${plain_tps[@]}" | median)
tq=$(printf '%s\n' "${prot_tps[@]}" | median)
rows_plain=$(echo "$ROWS / $mp" | bc -l)
rows_prot=$(echo "$ROWS / $mq" | bc -l)
printf '\nbulk INSERT of %d rows, median of %d runs:\n' "$ROWS" "$RUNS"
printf '  unprotected %.3f s (%.0f rows/s), protected %.3f s (%.0f rows/s)\n' "$mp" "$rows_plain" "$mq" "$rows_prot"
printf '  ratio of the medians: %.3f; median of the per-run ratios: %.3f\n' \
  "$(echo "$mp / $mq" | bc -l)" "$(printf '%s\n' "${bulk_ratio[@]}" | median)"
ml=$(printf '%s\n' "${plain_l[@]}" | median)
mk=$(printf '%s\n' "${prot_l[@]}" | median)
printf '%d single-row INSERT statements in one session, median of %d runs:\n' "$LOOP" "$RUNS"
printf '  unprotected %.3f s (%.1f us/statement), protected %.3f s (%.1f us/statement)\n' \
  "$ml" "$(echo "$ml * 1000000 / $LOOP" | bc -l)" "$mk" "$(echo "$mk * 1000000 / $LOOP" | bc -l)"
printf '  ratio of the medians: %.3f; median of the per-run ratios: %.3f\n' \
  "$(echo "$ml / $mk" | bc -l)" "$(printf '%s\n' "${loop_ratio[@]}" | median)"
printf 'pgbench single-row INSERT, %d clients x %d s, median of %d runs:\n' "$CLIENTS" "$SECS" "$RUNS"
printf '  unprotected %.0f tps, protected %.0f tps\n' "$tp" "$tq"
printf '  ratio of the medians: %.3f; median of the per-run ratios: %.3f\n' \
  "$(echo "$tq / $tp" | bc -l)" "$(printf '%s\n' "${tps_ratio[@]}" | median)"
