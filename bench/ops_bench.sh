#!/usr/bin/env bash
# Operations: the cost of an incremental (nightly) integrity audit against a
# full verification of the same table, measured in the same run on a
# scratch cluster this script starts and stops itself.
#
# A copy of the seed's entity_history (monthly partitions, uuid entity_id,
# jsonb payload) hash-chained per entity, ROWS rows (default 300000) over
# ENTITIES entities (default 5000).  A digest is taken (what a clean
# scheduled verification keeps as its anchor), then NEW_PCT percent more
# rows (default 1) are added to random entities.  Then, RUNS times each
# (default 5), alternating which goes first:
#   full         wallet_ops.verify_chain(tbl)
#   incremental  wallet_ops.verify_since_digest(tbl, anchor)
# Prints the medians and their ratio (target: at most 0.05), timed by the
# server (clock_timestamp around each call).  Also, for information, what
# wallet_ops.health() and wallet_ops.metrics() cost.
#
#   sudo bash bench/ops_bench.sh        (PG_CONFIG=... selects the install)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
ROWS=${ROWS:-300000}
ENTITIES=${ENTITIES:-5000}
NEW_PCT=${NEW_PCT:-1}
RUNS=${RUNS:-5}
PORT=${PORT:-54351}

bench_build
bench_initdb "$PORT"
cat >> "$run/data/postgresql.conf" <<CONF
wallet_ops.naptime = 3600
shared_buffers = 256MB
max_wal_size = 4GB
CONF
bench_start
cleanup() { bench_stop; }
trap cleanup EXIT
sql() { as_pg psql -h "$run" -p "$PORT" -d postgres -XAtq -v ON_ERROR_STOP=1 "$@"; }

echo "wallet_ops operations benchmark: $ROWS rows, $ENTITIES entities, $NEW_PCT% new rows, $RUNS runs ($(sql -c 'SHOW server_version'))"
sql <<SQL
CREATE EXTENSION wallet_ops;
CREATE TABLE entity_history (
    history_id  bigint GENERATED ALWAYS AS IDENTITY,
    entity_id   uuid NOT NULL,
    entity_type text NOT NULL,
    change_type text NOT NULL,
    payload     jsonb NOT NULL,
    changed_by  text NOT NULL,
    changed_at  timestamptz NOT NULL
) PARTITION BY RANGE (changed_at);
SELECT FROM wallet_ops._manage_partitions_at('entity_history', 'month', 12, NULL, 'UTC', false,
                                                      '2026-01-01 00:00+00');
SELECT wallet_ops.enable_hash_chain('entity_history', '{entity_id}');
INSERT INTO entity_history (entity_id, entity_type, change_type, payload, changed_by, changed_at)
SELECT ('00000000-0000-4000-8000-' || lpad((n % $ENTITIES)::text, 12, '0'))::uuid, 'wallet', 'update',
       jsonb_build_object('balance', n % 1000, 'currency', 'EUR', 'seq', n), 'ingest',
       timestamptz '2026-01-01 00:00+00' + (n::float8 / $ROWS) * interval '300 days'
  FROM generate_series(1, $ROWS) n;
VACUUM ANALYZE entity_history;
CREATE TABLE bench_anchor AS SELECT wallet_ops.chain_digest('entity_history') AS d;
INSERT INTO entity_history (entity_id, entity_type, change_type, payload, changed_by, changed_at)
SELECT ('00000000-0000-4000-8000-' || lpad((floor(random() * $ENTITIES))::int::text, 12, '0'))::uuid, 'wallet', 'update',
       jsonb_build_object('balance', n, 'currency', 'EUR'), 'ingest',
       timestamptz '2026-10-28 00:00+00' + n * interval '1 second'
  FROM generate_series(1, ($ROWS * $NEW_PCT / 100)::int) n;
VACUUM ANALYZE entity_history;
SQL

sql <<SQL
CREATE TEMP TABLE t (what text, ms float8);
DO \$\$
DECLARE
    t0 timestamptz;
    n bigint;
    anchor jsonb := (SELECT d FROM bench_anchor);
BEGIN
    FOR i IN 1..$RUNS LOOP
        FOR j IN 0..1 LOOP
            IF (i + j) % 2 = 0 THEN
                t0 := clock_timestamp();
                SELECT count(*) INTO n FROM wallet_ops.verify_chain('entity_history');
                IF n <> 0 THEN RAISE EXCEPTION 'full verification found % problems', n; END IF;
                INSERT INTO t VALUES ('full', 1000 * extract(epoch FROM clock_timestamp() - t0));
            ELSE
                t0 := clock_timestamp();
                SELECT count(*) INTO n FROM wallet_ops.verify_since_digest('entity_history', anchor);
                IF n <> 0 THEN RAISE EXCEPTION 'incremental verification found % problems', n; END IF;
                INSERT INTO t VALUES ('incremental', 1000 * extract(epoch FROM clock_timestamp() - t0));
            END IF;
        END LOOP;
    END LOOP;
    FOR i IN 1..$RUNS LOOP
        t0 := clock_timestamp();
        PERFORM wallet_ops.health();
        INSERT INTO t VALUES ('health()', 1000 * extract(epoch FROM clock_timestamp() - t0));
        t0 := clock_timestamp();
        PERFORM wallet_ops.metrics();
        INSERT INTO t VALUES ('metrics()', 1000 * extract(epoch FROM clock_timestamp() - t0));
    END LOOP;
END
\$\$;
SELECT format('%-12s median %s ms  (runs: %s)', what,
              round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
              string_agg(round(ms::numeric, 1)::text, ' ' ORDER BY ms))
  FROM t GROUP BY what ORDER BY what;
SELECT format('incremental / full = %s (target: at most 0.05)',
              round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM t WHERE what = 'incremental')::numeric
                    / (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM t WHERE what = 'full')::numeric, 4));
SQL
