-- Partitions made ahead of time: names, bounds and adoption.
-- A fixed reference time is passed to the internal _manage_partitions_at()
-- and _run_maintenance_at(), so that the output does not depend on today.
CREATE SCHEMA part_test;
SET search_path = part_test, public;
SET client_min_messages = warning;

-- The seed's tables with their hand-made partitions for 2026 (UTC bounds).
SET TimeZone = 'UTC';
CREATE TABLE entity_history (
    history_id  bigint GENERATED ALWAYS AS IDENTITY,
    entity_id   uuid NOT NULL,
    payload     jsonb NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (history_id, changed_at)
) PARTITION BY RANGE (changed_at);
CREATE INDEX ON entity_history (entity_id, changed_at);
DO $$
BEGIN
    FOR m IN 1..12 LOOP
        EXECUTE format('CREATE TABLE part_test.entity_history_2026_%s PARTITION OF part_test.entity_history'
                       ' FOR VALUES FROM (%L) TO (%L)', lpad(m::text, 2, '0'),
                       make_date(2026, m, 1), make_date(2026, m, 1) + interval '1 month');
    END LOOP;
END $$;
CREATE TABLE audit_log (
    audit_id    bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL
) PARTITION BY RANGE (occurred_at);
DO $$
BEGIN
    FOR q IN 1..4 LOOP
        EXECUTE format('CREATE TABLE part_test.audit_log_2026_q%s PARTITION OF part_test.audit_log'
                       ' FOR VALUES FROM (%L) TO (%L)', q,
                       make_date(2026, 3 * q - 2, 1), make_date(2026, 3 * q - 2, 1) + interval '3 months');
    END LOOP;
END $$;

-- The session's time zone must not matter from here on.
SET TimeZone = 'America/New_York';

-- Adopts the existing partitions, makes the default and what is missing.
SELECT * FROM wallet_ops._manage_partitions_at('entity_history', 'month', 3, NULL, 'UTC', false,
                                               '2026-11-23 12:00+00');
SELECT * FROM wallet_ops._manage_partitions_at('audit_log', 'quarter', 2, NULL, 'UTC', false,
                                               '2026-11-23 12:00+00');
SELECT relid, period, premake, retention, time_zone, keep_detached, last_result,
       runway_until AT TIME ZONE 'UTC' AS runway_until_utc, default_rows
  FROM wallet_ops.partition_config ORDER BY relid::text;

-- Nothing to do a second time.
SELECT * FROM wallet_ops._run_maintenance_at('entity_history', '2026-11-30 23:59+00');
-- A month later, one more month is made; the year end is crossed.
SELECT * FROM wallet_ops._run_maintenance_at('entity_history', '2026-12-01 00:00+00');

-- New partitions get the parent's indexes, owner and grants.
CREATE ROLE part_test_owner;
CREATE ROLE part_test_reader;
CREATE TABLE grants_test (at timestamptz NOT NULL, v int) PARTITION BY RANGE (at);
CREATE INDEX ON grants_test (v);
ALTER TABLE grants_test OWNER TO part_test_owner;
GRANT SELECT ON grants_test TO part_test_reader;
GRANT INSERT ON grants_test TO PUBLIC;
SELECT count(*) FROM wallet_ops._manage_partitions_at('grants_test', 'day', 1, NULL, 'UTC', false,
                                                      '2026-06-30 23:00+00');
-- the owner holds MAINTAIN (m) too from PostgreSQL 17: expected/partition_manage_1.out
SELECT c.relname, pg_get_userbyid(c.relowner) AS owner, c.relacl,
       (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid) AS indexes
  FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
 WHERE i.inhparent = 'grants_test'::regclass ORDER BY 1;

-- Names for every period: day, ISO week (2026-12-31 is in week 53 of 2026;
-- 2027-01-04 starts week 1 of 2027), month, quarter, year.
CREATE TABLE p_day (at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE p_week (at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE p_quarter (at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE p_year (at timestamp NOT NULL) PARTITION BY RANGE (at);
SELECT object, action, detail FROM wallet_ops._manage_partitions_at('p_day', 'day', 2, NULL, 'UTC', false, '2026-12-31 12:00+00');
SELECT object, action, detail FROM wallet_ops._manage_partitions_at('p_week', 'week', 2, NULL, 'UTC', false, '2026-12-31 12:00+00');
SELECT object, action, detail FROM wallet_ops._manage_partitions_at('p_quarter', 'quarter', 2, NULL, 'UTC', false, '2026-12-31 12:00+00');
SELECT object, action, detail FROM wallet_ops._manage_partitions_at('p_year', 'year', 1, NULL, 'UTC', false, '2026-12-31 12:00+00');

-- Bounds are local midnights of the configured zone, across the DST change
-- of 2026-03-08 in New York (UTC-5 before, UTC-4 after) whatever the
-- session's zone; a date key has plain dates.
SET TimeZone = 'Asia/Tokyo';
CREATE TABLE p_ny (at timestamptz NOT NULL) PARTITION BY RANGE (at);
SELECT object, action, detail FROM wallet_ops._manage_partitions_at('p_ny', 'day', 2, NULL, 'America/New_York', false,
                                                                   '2026-03-07 12:00-05');
SET TimeZone = 'UTC';
CREATE TABLE p_ny_month (at timestamptz NOT NULL) PARTITION BY RANGE (at);
SELECT object, action, detail FROM wallet_ops._manage_partitions_at('p_ny_month', 'month', 1, NULL, 'America/New_York', false,
                                                                   '2026-03-01 03:00+00');
-- 03:00 UTC on March 1st is still February in New York.
SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'p_ny_month_2026_03';
-- "now" for a date key is the date in the configured zone: 2026-12-31 in
-- Los Angeles when it is already 2027 in UTC.
CREATE TABLE p_la_date (at date NOT NULL) PARTITION BY RANGE (at);
SELECT object, action, detail FROM wallet_ops._manage_partitions_at('p_la_date', 'year', 1, NULL, 'America/Los_Angeles', false,
                                                                   '2027-01-01 03:00+00');

-- The plan as of a time, and which partitions exist.
SELECT * FROM wallet_ops._partition_plan('p_ny_month', '2026-05-15 12:00+00');

-- Unmanaging keeps every partition.
SELECT count(*) FROM pg_inherits WHERE inhparent = 'p_year'::regclass;
SELECT wallet_ops.unmanage_partitions('p_year');
SELECT count(*) FROM pg_inherits WHERE inhparent = 'p_year'::regclass;
SELECT count(*) FROM wallet_ops.partition_config WHERE relid = 'p_year'::regclass;

-- Every step was recorded.
SELECT object, action, outcome, detail FROM wallet_ops.job_log
 WHERE object LIKE 'part_test.entity_history%' ORDER BY job_id;

-- A dropped table is no longer managed.
SELECT count(*) FROM wallet_ops.partition_config WHERE relid = 'p_quarter'::regclass;
DROP TABLE p_quarter;
SELECT count(*) FROM wallet_ops.partition_config c
 WHERE NOT EXISTS (SELECT FROM pg_class WHERE oid = c.relid);

DROP SCHEMA part_test CASCADE;
DROP ROLE part_test_owner;
DROP ROLE part_test_reader;
SELECT count(*) FROM wallet_ops.partition_config;
