-- Maintenance: rows in the default partition are moved into the
-- partitions made for them, retention drops or detaches old partitions,
-- and one broken table does not stop the others.
CREATE SCHEMA part_maint;
SET search_path = part_maint, public;
SET client_min_messages = warning;
SET TimeZone = 'Europe/Berlin';

CREATE TABLE events (
    id      bigint GENERATED ALWAYS AS IDENTITY,
    at      timestamptz NOT NULL,
    payload text NOT NULL,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
-- a row trigger that must not fire when rows are only moved
CREATE TABLE trigger_calls (n int);
CREATE FUNCTION count_call() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO part_maint.trigger_calls VALUES (1);
    RETURN NEW;
END $$;
CREATE TRIGGER count_call BEFORE INSERT OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION count_call();

SELECT object, action, detail FROM wallet_ops._manage_partitions_at('events', 'month', 1, '3 months', 'UTC', false,
                                                                   '2026-01-10 00:00+00');

-- Rows for months without a partition land in the default partition
-- instead of failing.
INSERT INTO events (at, payload)
SELECT timestamptz '2026-03-01 00:00+00' + n * interval '7 hours', 'row ' || n
  FROM generate_series(0, 199) n;
INSERT INTO events (at, payload) VALUES ('2027-07-04 12:00+00', 'far ahead');
SELECT tableoid::regclass, count(*) FROM events GROUP BY 1 ORDER BY 1;
SELECT count(*) AS trigger_calls_before FROM trigger_calls;
CREATE TEMP TABLE before_move AS SELECT id, at, payload FROM events;

-- The next run makes their partitions and moves them, with no row lost or
-- changed, and without firing row triggers again.
SELECT object, action, detail FROM wallet_ops._run_maintenance_at('events', '2026-01-20 00:00+00');
SELECT tableoid::regclass, count(*) FROM events GROUP BY 1 ORDER BY 1;
SELECT count(*) AS lost FROM (SELECT * FROM before_move EXCEPT SELECT id, at, payload FROM events) x;
SELECT count(*) AS added FROM (SELECT id, at, payload FROM events EXCEPT SELECT * FROM before_move) x;
SELECT count(*) AS trigger_calls_after FROM trigger_calls;
SELECT default_rows, last_result FROM wallet_ops.partition_config WHERE relid = 'events'::regclass;
-- the identity goes on from where it was
INSERT INTO events (at, payload) VALUES ('2026-01-21 00:00+00', 'new') RETURNING id;

-- Rows that can have no partition stay in the default partition; they do
-- not stop the others from being moved, and are counted.
INSERT INTO events (at, payload) VALUES ('infinity', 'never'), ('-infinity', 'always'),
                                        ('2026-05-15 00:00+00', 'may');
SELECT object, action, detail FROM wallet_ops._run_maintenance_at('events', '2026-01-20 00:00+00');
SELECT tableoid::regclass, payload FROM events WHERE payload IN ('never', 'always', 'may') ORDER BY 2;
SELECT default_rows FROM wallet_ops.partition_config WHERE relid = 'events'::regclass;
-- they are not written to job_log on every run
SELECT count(*) FROM wallet_ops.job_log WHERE object LIKE 'part_maint.events%' AND action = 'kept in default';

-- Retention: at 2026-07-15 with '3 months', partitions ending on or before
-- 2026-04-15 are dropped (January to March); April is kept.
SELECT object, action, detail FROM wallet_ops._run_maintenance_at('events', '2026-07-15 00:00+00');
SELECT relname FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
 WHERE i.inhparent = 'events'::regclass ORDER BY 1;

-- keep_detached detaches instead of dropping.
CREATE TABLE kept (at date NOT NULL) PARTITION BY RANGE (at);
SELECT count(*) FROM wallet_ops._manage_partitions_at('kept', 'year', 1, '1 year', 'UTC', true, '2024-06-01');
SELECT object, action, detail FROM wallet_ops._run_maintenance_at('kept', '2026-06-01');
SELECT relname, relispartition FROM pg_class WHERE relname LIKE 'kept\_2%' ORDER BY 1;

-- One broken table does not stop the others: "broken" gets a partition
-- that overlaps its next month; the other tables are still maintained, the
-- error is reported, recorded in job_log and in partition_config.
CREATE TABLE broken (at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE healthy (at timestamptz NOT NULL) PARTITION BY RANGE (at);
SELECT count(*) FROM wallet_ops._manage_partitions_at('broken', 'month', 1, NULL, 'UTC', false, '2026-01-10 00:00+00');
SELECT count(*) FROM wallet_ops._manage_partitions_at('healthy', 'month', 1, NULL, 'UTC', false, '2026-01-10 00:00+00');
CREATE TABLE broken_odd PARTITION OF broken FOR VALUES FROM ('2026-03-15 00:00+00') TO ('2026-04-15 00:00+00');
SELECT object, action, detail FROM wallet_ops._run_maintenance_at(NULL, '2026-02-10 00:00+00')
 WHERE object NOT LIKE 'part_maint.events%' AND object NOT LIKE 'part_maint.kept%'
 ORDER BY object, action;
SELECT relid, last_result, last_error FROM wallet_ops.partition_config
 WHERE relid IN ('broken'::regclass, 'healthy'::regclass) ORDER BY relid::text;
SELECT object, kind, action, outcome, sqlstate, error FROM wallet_ops.job_log
 WHERE object = 'part_maint.broken' AND outcome <> 'ok' ORDER BY job_id;
-- once the odd partition is gone, the next run repairs the table
DROP TABLE broken_odd;
SELECT object, action FROM wallet_ops._run_maintenance_at('broken', '2026-02-10 00:00+00');
SELECT last_result, last_error FROM wallet_ops.partition_config WHERE relid = 'broken'::regclass;

-- run_maintenance() with the real clock: the current month and the next
-- three exist afterwards, and a second run has nothing to do.
CREATE TABLE now_table (at timestamptz NOT NULL) PARTITION BY RANGE (at);
SELECT count(*) > 0 AS made FROM wallet_ops.manage_partitions('now_table', 'month');
SELECT count(*) AS months_ahead FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'now_table'::regclass AND c.relname <> 'now_table_default'
   AND c.relname >= 'now_table_' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM');
SELECT count(*) AS second_run FROM wallet_ops.run_maintenance('now_table');

DROP SCHEMA part_maint CASCADE;
SELECT relid FROM wallet_ops.partition_config;

-- housekeeping: run_maintenance() purges job_log rows older than
-- wallet_ops.job_log_retention (30 days), and only those
INSERT INTO wallet_ops.job_log (started_at, object, kind, action, outcome)
VALUES (now() - interval '31 days', 'purge-test old', 'test', 'test', 'ok'),
       (now() - interval '29 days', 'purge-test recent', 'test', 'test', 'ok');
SELECT count(*) >= 0 AS ran FROM wallet_ops.run_maintenance();
SELECT object FROM wallet_ops.job_log WHERE object LIKE 'purge-test%' ORDER BY object;
DELETE FROM wallet_ops.job_log WHERE object LIKE 'purge-test%';
