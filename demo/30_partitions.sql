-- Partitions made ahead of time (replaces runbook 9.5 of the operations
-- guide: "INSERT fails with no partition of relation ... found for row").

-- entity_history: monthly partitions, the current month and 3 ahead.  The
-- hand-made 2026 partitions have the right bounds (UTC) and are adopted.
SELECT count(*) AS eh_before FROM pg_inherits WHERE inhparent = 'entity_history'::regclass \gset
SELECT count(*) AS al_before FROM pg_inherits WHERE inhparent = 'audit_log'::regclass \gset
SELECT * FROM wallet_ops.manage_partitions('entity_history', 'month');

-- audit_log: quarterly, 2 quarters ahead; quarters that ended more than
-- 7 years ago are detached (kept as plain tables), not dropped.
SELECT * FROM wallet_ops.manage_partitions('audit_log', 'quarter', 2, '7 years', 'UTC', true);
SELECT count(*) - :eh_before AS eh_made FROM pg_inherits WHERE inhparent = 'entity_history'::regclass \gset
SELECT count(*) - :al_before AS al_made FROM pg_inherits WHERE inhparent = 'audit_log'::regclass \gset
SELECT to_char(runway_until AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS eh_runway
  FROM wallet_ops.partition_config WHERE relid = 'entity_history'::regclass \gset
SELECT to_char(runway_until AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS al_runway
  FROM wallet_ops.partition_config WHERE relid = 'audit_log'::regclass \gset
\echo 'partitions:  entity_history by month:' :eh_made 'made (a default among them), runway to' :eh_runway
\echo '             audit_log by quarter:' :al_made 'made (a default among them), runway to' :al_runway

SELECT relid, period, premake, retention, time_zone, keep_detached,
       runway_until, default_rows, last_result
  FROM wallet_ops.partition_config ORDER BY relid::text;

-- Bad input is refused with a clear error and its own SQLSTATE.
\set ON_ERROR_STOP 0
SELECT * FROM wallet_ops.manage_partitions('identities', 'month');
\set bad :SQLSTATE
SELECT * FROM wallet_ops.manage_partitions('entity_history', 'month');
\set bad :bad', ':SQLSTATE
SELECT * FROM wallet_ops.manage_partitions('audit_log', 'fortnight');
\set bad :bad', ':SQLSTATE
\set ON_ERROR_STOP 1
\echo 'refused:     not partitioned, already managed, a "fortnight": SQLSTATE' :bad

-- A row two years ahead no longer fails: it lands in the default partition...
INSERT INTO entity_history (entity_id, entity_type, change_type, payload, changed_by, changed_at)
VALUES ('00000000-0000-4000-8000-000000000001', 'wallet', 'update',
        '{"balance": 1, "currency": "EUR"}', 'demo', now() + interval '2 years');
SELECT tableoid::regclass AS partition, changed_at FROM entity_history WHERE changed_by = 'demo';
SELECT clock_timestamp() AS t0 \gset

-- ...and the worker (naptime 2 s in this demo) makes its partition and moves
-- it there by itself, without any call.  (The loop commits between looks:
-- a transaction that kept reading the default partition would hold the
-- lock the worker needs, and the worker would give up after
-- wallet_ops.lock_timeout and retry on its next tick.)
DO $$
BEGIN
    FOR i IN 1..50 LOOP
        EXIT WHEN NOT EXISTS (SELECT FROM entity_history_default);
        COMMIT;
        PERFORM pg_sleep(0.2);
    END LOOP;
END $$;
SELECT tableoid::regclass AS partition, changed_at FROM entity_history WHERE changed_by = 'demo';
SELECT tableoid::regclass AS moved_to, round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 1) AS move_s
  FROM entity_history WHERE changed_at > now() + interval '1 year' \gset
\echo 'worker:      a row 2 years ahead went to the default partition; the worker made' :moved_to 'and moved it there in' :move_s 's'

-- What was done, as recorded in job_log.
SELECT started_at, object, action, outcome, left(detail, 80) AS detail
  FROM wallet_ops.job_log WHERE kind = 'partitions' ORDER BY job_id;

-- run_maintenance() does now what the worker does each tick; with nothing
-- to do it returns nothing and takes no lock that could block an INSERT.
SELECT * FROM wallet_ops.run_maintenance();

-- The worker of this database, and its launcher.
SELECT backend_type, datname, state, wait_event_type
  FROM pg_stat_activity WHERE backend_type LIKE 'wallet_ops%' ORDER BY 1;
