-- Partitions made ahead of time (replaces runbook 9.5 of the operations
-- guide: "INSERT fails with no partition of relation ... found for row").

-- entity_history: monthly partitions, the current month and 3 ahead.  The
-- hand-made 2026 partitions have the right bounds (UTC) and are adopted.
SELECT * FROM wallet_ops.manage_partitions('entity_history', 'month');

-- audit_log: quarterly, 2 quarters ahead; quarters that ended more than
-- 7 years ago are detached (kept as plain tables), not dropped.
SELECT * FROM wallet_ops.manage_partitions('audit_log', 'quarter', 2, '7 years', 'UTC', true);

SELECT relid, period, premake, retention, time_zone, keep_detached,
       runway_until, default_rows, last_result
  FROM wallet_ops.partition_config ORDER BY relid::text;

-- Bad input is refused with a clear error and its own SQLSTATE.
\set ON_ERROR_STOP 0
SELECT * FROM wallet_ops.manage_partitions('identities', 'month');
SELECT * FROM wallet_ops.manage_partitions('entity_history', 'month');
SELECT * FROM wallet_ops.manage_partitions('audit_log', 'fortnight');
\set ON_ERROR_STOP 1

-- A row two years ahead no longer fails: it lands in the default partition...
INSERT INTO entity_history (entity_id, entity_type, change_type, payload, changed_by, changed_at)
VALUES ('00000000-0000-4000-8000-000000000001', 'wallet', 'update',
        '{"balance": 1, "currency": "EUR"}', 'demo', now() + interval '2 years');
SELECT tableoid::regclass AS partition, changed_at FROM entity_history WHERE changed_by = 'demo';

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

-- What was done, as recorded in job_log.
SELECT started_at, object, action, outcome, left(detail, 80) AS detail
  FROM wallet_ops.job_log WHERE kind = 'partitions' ORDER BY job_id;

-- run_maintenance() does now what the worker does each tick; with nothing
-- to do it returns nothing and takes no lock that could block an INSERT.
SELECT * FROM wallet_ops.run_maintenance();

-- The worker of this database, and its launcher.
SELECT backend_type, datname, state, wait_event_type
  FROM pg_stat_activity WHERE backend_type LIKE 'wallet_ops%' ORDER BY 1;
