-- How the parts work together on the seed's two tables: a hash-chained,
-- monthly entity_history and an append-only, quarterly audit_log, both
-- with partitions made ahead of time.
CREATE SCHEMA integ;
SET search_path = integ, public;
SET TimeZone = 'America/New_York';   -- bounds must still be UTC

CREATE TABLE entity_history (
    history_id bigint GENERATED ALWAYS AS IDENTITY,
    entity_id  int NOT NULL,
    payload    jsonb NOT NULL,
    changed_at timestamptz NOT NULL
) PARTITION BY RANGE (changed_at);

SELECT object, action FROM wallet_ops._manage_partitions_at('entity_history', 'month', 2, NULL, 'UTC', false, '2026-01-10 00:00+00');
SELECT wallet_ops.enable_hash_chain('entity_history', '{entity_id}');

-- a hash-chained table is append-only, partitions included
SELECT count(*) AS protected FROM wallet_ops.append_only_tables WHERE relid = 'entity_history'::regclass;
INSERT INTO entity_history (entity_id, payload, changed_at)
SELECT 1 + n % 3, jsonb_build_object('n', n), '2026-01-01 00:00+00'::timestamptz + n * interval '36 hours'
  FROM generate_series(1, 80) n;   -- the last rows land in the default partition
SELECT tableoid::regclass::text AS partition, count(*) FROM entity_history GROUP BY 1 ORDER BY 1;
UPDATE entity_history SET payload = '{}' WHERE history_id = 1;
DELETE FROM entity_history_2026_01;
TRUNCATE entity_history_default;
SELECT count(*) AS problems FROM wallet_ops.verify_chain('entity_history');

-- a month later the worker's run makes the next partitions and moves the
-- rows out of the default partition: they keep their hashes, so the
-- chains still verify, and the protection still holds on the new ones
CREATE TEMP TABLE hashes_before AS SELECT history_id, row_hash FROM entity_history;
SELECT object, action FROM wallet_ops._run_maintenance_at('entity_history', '2026-03-05 00:00+00')
 ORDER BY object, action;
SELECT tableoid::regclass::text AS partition, count(*) FROM entity_history GROUP BY 1 ORDER BY 1;
SELECT count(*) AS changed_hashes
  FROM entity_history e JOIN hashes_before b USING (history_id)
 WHERE e.row_hash IS DISTINCT FROM b.row_hash;
SELECT count(*) AS problems FROM wallet_ops.verify_chain('entity_history');
DELETE FROM entity_history_2026_04;
INSERT INTO entity_history (entity_id, payload, changed_at) VALUES (1, '{"n": 81}', '2026-04-02 00:00+00');
SELECT entity_id, chain_seq, tableoid::regclass FROM entity_history WHERE payload = '{"n": 81}';
SELECT count(*) AS problems FROM wallet_ops.verify_chain('entity_history');

-- retention would cut the start off the chains: refused both ways round
SELECT wallet_ops.unmanage_partitions('entity_history');
SELECT wallet_ops.manage_partitions('entity_history', 'month', 2, '1 year');
SELECT count(*) AS managed FROM wallet_ops.partition_config WHERE relid = 'entity_history'::regclass;
CREATE TABLE other_history (id int, at timestamptz NOT NULL) PARTITION BY RANGE (at);
SELECT count(*) FROM wallet_ops._manage_partitions_at('other_history', 'month', 1, '6 months', 'UTC', false, '2026-01-10 00:00+00');
SELECT wallet_ops.enable_hash_chain('other_history');
SELECT count(*) AS chained FROM wallet_ops.hash_chains WHERE relid = 'other_history'::regclass;

-- audit_log: append-only with a retention; only maintenance may drop an
-- old partition, a user may not
CREATE TABLE audit_log (
    audit_id    bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at timestamptz NOT NULL,
    action      text NOT NULL
) PARTITION BY RANGE (occurred_at);
SELECT object, action FROM wallet_ops._manage_partitions_at('audit_log', 'quarter', 1, '6 months', 'UTC', false, '2026-01-10 00:00+00')
 ORDER BY object;
SELECT wallet_ops.enforce_append_only('audit_log');
INSERT INTO audit_log (occurred_at, action) VALUES ('2026-01-05 00:00+00', 'login'), ('2026-05-05 00:00+00', 'login');
DROP TABLE audit_log_2026_q1;
ALTER TABLE audit_log DETACH PARTITION audit_log_2026_q1;
SELECT object, action FROM wallet_ops._run_maintenance_at('audit_log', '2026-11-01 00:00+00')
 ORDER BY object, action;
SELECT tableoid::regclass::text AS partition, count(*) FROM audit_log GROUP BY 1 ORDER BY 1;
-- the new partitions are protected too
DELETE FROM audit_log_2027_q1;
TRUNCATE audit_log_2026_q4;

RESET TimeZone;
RESET search_path;

-- a DBA role that is not a superuser, granted the functions, maintains its
-- own tables (and only those)
CREATE ROLE integ_dba;
GRANT USAGE, CREATE ON SCHEMA integ TO integ_dba;
GRANT EXECUTE ON FUNCTION wallet_ops.manage_partitions(regclass, text, integer, interval, text, boolean),
                          wallet_ops.run_maintenance(regclass) TO integ_dba;
SET ROLE integ_dba;
CREATE TABLE integ.dba_events (at timestamptz NOT NULL) PARTITION BY RANGE (at);
SELECT count(*) > 0 AS made FROM wallet_ops.manage_partitions('integ.dba_events', 'month');
SELECT count(*) >= 0 AS ran FROM wallet_ops.run_maintenance();
SELECT count(*) >= 0 AS ran FROM wallet_ops.run_maintenance('integ.dba_events');
SELECT count(*) AS not_mine FROM wallet_ops.run_maintenance('integ.audit_log');
RESET ROLE;
SELECT last_result, runway_until IS NOT NULL AS has_runway
  FROM wallet_ops.partition_config WHERE relid = 'integ.dba_events'::regclass;
SELECT object, kind, outcome FROM wallet_ops.job_log
 WHERE object = 'integ.dba_events' ORDER BY job_id;

-- numeric cannot be a chain key: 1.0 and 1.00 are equal but print
-- differently, so one chain would get two names
CREATE TABLE integ.amounts (bucket numeric, v int);
SELECT wallet_ops.enable_hash_chain('integ.amounts', '{bucket}');
SELECT count(*) AS chained FROM wallet_ops.hash_chains WHERE relid = 'integ.amounts'::regclass;
SELECT count(*) AS columns_added FROM pg_attribute
 WHERE attrelid = 'integ.amounts'::regclass AND attname IN ('chain_seq', 'prev_hash', 'row_hash');
