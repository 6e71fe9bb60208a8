#!/usr/bin/env bash
# INSERT throughput into an append-only table against the same table
# unprotected, measured in the same run on a scratch cluster this script
# starts and stops itself.  The tables have the shape of the seed's
# audit_log (identity, jsonb, quarterly partitions).
#
# The machine may be shared, so the tables are measured in fine-grained
# rotation inside the server (A B C, C B A, ...), timed by the server, with
# a second unprotected copy giving the noise floor (an A/A ratio); every
# table gets the same rows and all are emptied between runs.  Per run:
#   - bulk: ROUNDS_BULK (default 20) rounds of INSERT ... SELECT of
#     BULK_ROWS rows (default 5000) into each table;
#   - statements: ROUNDS_STMT (default 200) rounds of STMTS (default 200)
#     single-row INSERT statements in a server-side loop: the per-statement
#     cost (executor start-up copies the trigger descriptors);
#   - pgbench: single-row INSERTs by CLIENTS clients (default 1) for SECS
#     seconds (default 10), each transaction into one table or the other at
#     random (client round trips included); ratio of the mean latencies.
# Prints the median over RUNS runs (default 5) of those ratios,
# protected/unprotected throughput: 1.00 = no cost; the target is >= 0.95.
#
#   sudo bash bench/append_bench.sh        (PG_CONFIG=... selects the install)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-5}
ROUNDS_BULK=${ROUNDS_BULK:-20}
BULK_ROWS=${BULK_ROWS:-5000}
ROUNDS_STMT=${ROUNDS_STMT:-200}
STMTS=${STMTS:-200}
SECS=${SECS:-10}
CLIENTS=${CLIENTS:-1}
PORT=${PORT:-54341}

bench_build
bench_initdb "$PORT"
cat >> "$run/data/postgresql.conf" <<CONF
wallet_ops.naptime = 3600
synchronous_commit = off
shared_buffers = 256MB
max_wal_size = 4GB
# autovacuum would analyze the growing tables in the middle of measurements
autovacuum = off
CONF
bench_start
cleanup() {
  bench_stop
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
    FOREACH t IN ARRAY ARRAY['log_plain', 'log_plain_b', 'log_protected'] LOOP
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
    FOREACH t IN ARRAY ARRAY['log_plain', 'log_plain_b', 'log_protected'] LOOP
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
-- triples(kind, n, rounds): kind_log_plain(n), kind_log_protected(n) and
-- kind_log_plain_b(n) in rotating order (A B C, C B A, B C A, ...), timed by
-- the server; returns the medians of the per-round ratios time_plain /
-- time_protected and time_plain / time_plain_b (the noise floor), and the
-- mean times.  Every table receives the same rows.
CREATE FUNCTION triples(kind text, n int, rounds int,
                        OUT ratio float8, OUT ratio_aa float8,
                        OUT secs_plain float8, OUT secs_protected float8)
LANGUAGE plpgsql AS $p$
DECLARE
    orders text[] := ARRAY['log_plain log_protected log_plain_b', 'log_plain_b log_protected log_plain',
                           'log_protected log_plain_b log_plain', 'log_plain log_plain_b log_protected',
                           'log_protected log_plain log_plain_b', 'log_plain_b log_plain log_protected'];
    t text;
    secs float8;
    tp float8;
    tq float8;
    tb float8;
    r float8[] := '{}';
    raa float8[] := '{}';
    sp float8[] := '{}';
    sq float8[] := '{}';
BEGIN
    FOR i IN 1..rounds LOOP
        FOREACH t IN ARRAY string_to_array(orders[1 + i % 6], ' ') LOOP
            EXECUTE format('SELECT %I($1)', kind || '_' || t) INTO secs USING n;
            CASE t WHEN 'log_plain' THEN tp := secs;
                   WHEN 'log_protected' THEN tq := secs;
                   ELSE tb := secs;
            END CASE;
        END LOOP;
        r := r || (tp / tq);
        raa := raa || (tp / tb);
        sp := sp || tp;
        sq := sq || tq;
    END LOOP;
    secs_plain := (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(sp) v);
    secs_protected := (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(sq) v);
    ratio := (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(r) v);
    ratio_aa := (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(raa) v);
END
$p$;
-- reset(): empty the three tables between runs, so that they stay equal
-- and small (the protection is lifted for a moment, by a superuser)
CREATE FUNCTION reset() RETURNS void LANGUAGE plpgsql AS $r$
BEGIN
    SET LOCAL client_min_messages = error;
    PERFORM wallet_ops.release_append_only('log_protected');
    TRUNCATE log_plain, log_plain_b, log_protected;
    PERFORM wallet_ops.enforce_append_only('log_protected');
END
$r$;
SQL

for t in log_plain log_protected; do
  cat > "$run/$t.sql" <<SQL
\set d random(0, 359)
INSERT INTO $t (occurred_at, actor, action, details)
VALUES (timestamptz '2026-01-01 UTC' + :d * interval '1 day', 'ingest', 'wallet.update', '{"n": 1}');
SQL
done
[ "$(id -u)" -eq 0 ] && chown postgres: "$run"/*.sql

# "ratio|ratio_aa|secs_plain|secs_protected" of triples(kind, n, rounds)
triples_() {
  psql_ -At -F'|' -c "SELECT * FROM triples('$1', $2, $3)"
}

# "latency_plain|latency_protected" (ms): one pgbench run mixing single-row
# INSERTs into both tables at random, so that both see the same load
mixed_once() {
  as_pg pgbench -h "$run" -p "$PORT" -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$SECS" -r \
    -f "$run/log_plain.sql@1" -f "$run/log_protected.sql@1" postgres 2>/dev/null |
    sed -n 's/^ - latency average = \([0-9.]*\) ms.*/\1/p' | paste -sd'|'
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { cut -d'|' -f"$1"; }

bulk=(); bulk_aa=(); stmt=(); stmt_aa=(); tps=(); us_plain=(); us_prot=(); rps_plain=(); rps_prot=()
tps_plain=(); tps_prot=()
for i in $(seq 1 "$RUNS"); do
  psql_ -c "SELECT reset()" -c "CHECKPOINT" >/dev/null
  # time_plain / time_protected = protected throughput / unprotected
  b=$(triples_ bulk "$BULK_ROWS" "$ROUNDS_BULK")
  m=$(triples_ loop "$STMTS" "$ROUNDS_STMT")
  bulk+=("$(echo "$b" | field 1)"); bulk_aa+=("$(echo "$b" | field 2)")
  stmt+=("$(echo "$m" | field 1)"); stmt_aa+=("$(echo "$m" | field 2)")
  rps_plain+=("$(echo "$BULK_ROWS / $(echo "$b" | field 3)" | bc -l)")
  rps_prot+=("$(echo "$BULK_ROWS / $(echo "$b" | field 4)" | bc -l)")
  us_plain+=("$(echo "$(echo "$m" | field 3) * 1000000 / $STMTS" | bc -l)")
  us_prot+=("$(echo "$(echo "$m" | field 4) * 1000000 / $STMTS" | bc -l)")
  x=$(mixed_once)
  tps_plain+=("$(echo "1000 / $(echo "$x" | field 1)" | bc -l)"); tps_prot+=("$(echo "1000 / $(echo "$x" | field 2)" | bc -l)")
  tps+=("$(echo "$(echo "$x" | field 1) / $(echo "$x" | field 2)" | bc -l)")
  printf 'run %d: bulk %.3f (A/A %.3f); statements %.3f (A/A %.3f); pgbench %.3f\n' \
    "$i" "${bulk[-1]}" "${bulk_aa[-1]}" "${stmt[-1]}" "${stmt_aa[-1]}" "${tps[-1]}"
done

med() { printf '%s\n' "$@" | median; }
printf '\nprotected/unprotected INSERT throughput, median of %d runs (A/A = the same between two unprotected tables: the noise floor)\n' "$RUNS"
printf '  bulk INSERT ... SELECT (%d rows x %d rounds): %.3f  (A/A %.3f)  %.0f vs %.0f rows/s\n' \
  "$BULK_ROWS" "$ROUNDS_BULK" "$(med "${bulk[@]}")" "$(med "${bulk_aa[@]}")" "$(med "${rps_prot[@]}")" "$(med "${rps_plain[@]}")"
printf '  single-row statements (%d x %d rounds):      %.3f  (A/A %.3f)  %.2f vs %.2f us/statement\n' \
  "$STMTS" "$ROUNDS_STMT" "$(med "${stmt[@]}")" "$(med "${stmt_aa[@]}")" "$(med "${us_prot[@]}")" "$(med "${us_plain[@]}")"
printf '  pgbench, %d client(s) x %d s, both mixed:      %.3f             %.0f vs %.0f statements/s per client\n' \
  "$CLIENTS" "$SECS" "$(med "${tps[@]}")" "$(med "${tps_prot[@]}")" "$(med "${tps_plain[@]}")"
