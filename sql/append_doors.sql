-- Append-only tables: every door tried, through the parent and through a
-- partition, as the table owner and as an ingest role.  Each row shows the
-- SQLSTATE and message of the refusal and how many rows the table gained or
-- lost (0 for every refused door).  docs/append-only.md has the same table.
CREATE ROLE regress_ao_owner;
CREATE ROLE regress_ao_ingest;
CREATE SCHEMA ao AUTHORIZATION regress_ao_owner;
GRANT USAGE ON SCHEMA ao TO PUBLIC;
SET TimeZone = 'UTC';


-- the seed's audit_log (quarterly), owned by a non-superuser
SET ROLE regress_ao_owner;
CREATE DOMAIN ao.severity AS int;
CREATE TYPE ao.outcome AS ENUM ('allowed', 'denied');
CREATE TABLE ao.actors (name text PRIMARY KEY);
INSERT INTO ao.actors VALUES ('ingest'), ('ops');
CREATE TABLE ao.audit_log (
    audit_id    bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL REFERENCES ao.actors ON DELETE CASCADE,
    action      text NOT NULL,
    severity    ao.severity,
    outcome     ao.outcome[],
    PRIMARY KEY (audit_id, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE TABLE ao.audit_log_2026_q1 PARTITION OF ao.audit_log
    FOR VALUES FROM ('2026-01-01') TO ('2026-04-01');
CREATE TABLE ao.audit_log_2026_q2 PARTITION OF ao.audit_log
    FOR VALUES FROM ('2026-04-01') TO ('2026-07-01');
INSERT INTO ao.audit_log (occurred_at, actor, action)
SELECT timestamptz '2026-01-01' + n * interval '1 day', 'ingest', 'wallet.update'
  FROM generate_series(0, 149) n;
CREATE VIEW ao.audit_view AS SELECT * FROM ao.audit_log;
CREATE TABLE ao.cleanup (id int);
CREATE RULE purge AS ON INSERT TO ao.cleanup DO ALSO DELETE FROM ao.audit_log;
RESET ROLE;
CREATE FOREIGN DATA WRAPPER regress_ao_fdw;
CREATE SERVER regress_ao_server FOREIGN DATA WRAPPER regress_ao_fdw;
GRANT USAGE ON FOREIGN SERVER regress_ao_server TO regress_ao_owner;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
SET ROLE regress_ao_owner;
CREATE FOREIGN TABLE ao.remote (audit_id bigint NOT NULL, occurred_at timestamptz NOT NULL,
    actor text NOT NULL, action text NOT NULL, severity ao.severity, outcome ao.outcome[]) SERVER regress_ao_server;
SELECT wallet_ops.enforce_append_only('ao.audit_log');
SELECT wallet_ops.grant_ingest('ao.audit_log', 'regress_ao_ingest');
RESET ROLE;
-- doors are tried by ao_test.door(): the statement runs in a
-- subtransaction; the row count is taken as the superuser
CREATE SCHEMA ao_test;
GRANT USAGE ON SCHEMA ao_test TO PUBLIC;
CREATE FUNCTION ao_test.rows() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN (SELECT count(*) FROM ao.audit_log); END $$;
CREATE FUNCTION ao_test.door(label text, stmt text,
                             OUT door text, OUT state text, OUT message text, OUT rows_delta bigint)
LANGUAGE plpgsql AS $$
DECLARE
    before bigint := ao_test.rows();
BEGIN
    door := label;
    state := 'ok';
    message := '';
    BEGIN
        EXECUTE stmt;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
    END;
    rows_delta := ao_test.rows() - before;
END
$$;
CREATE TABLE ao_test.doors (n serial, label text, stmt text);
GRANT SELECT ON ao_test.doors TO PUBLIC;
SELECT ao_test.rows();

INSERT INTO ao_test.doors (label, stmt) VALUES
  ('UPDATE parent', $$UPDATE ao.audit_log SET action = 'x'$$),
  ('UPDATE partition', $$UPDATE ao.audit_log_2026_q1 SET action = 'x'$$),
  ('UPDATE hitting no row', $$UPDATE ao.audit_log SET action = 'x' WHERE false$$),
  ('UPDATE moving a row to another partition', $$UPDATE ao.audit_log SET occurred_at = occurred_at + interval '3 months' WHERE audit_id = 1$$),
  ('DELETE parent', $$DELETE FROM ao.audit_log$$),
  ('DELETE partition', $$DELETE FROM ao.audit_log_2026_q2 WHERE audit_id > 100$$),
  ('DELETE in a WITH query', $$WITH d AS (DELETE FROM ao.audit_log RETURNING 1) SELECT count(*) FROM d$$),
  ('MERGE ... UPDATE parent', $$MERGE INTO ao.audit_log a USING (SELECT 1 AS id) s ON a.audit_id = s.id WHEN MATCHED THEN UPDATE SET action = 'x'$$),
  ('MERGE ... DELETE partition', $$MERGE INTO ao.audit_log_2026_q1 a USING (SELECT 1 AS id) s ON a.audit_id = s.id WHEN MATCHED THEN DELETE$$),
  ('MERGE ... UPDATE matching no row', $$MERGE INTO ao.audit_log a USING (SELECT -1 AS id) s ON a.audit_id = s.id WHEN MATCHED THEN UPDATE SET action = 'x' WHEN NOT MATCHED THEN INSERT (actor, action) VALUES ('ops', 'merge')$$),
  ('INSERT ON CONFLICT DO UPDATE parent', $$INSERT INTO ao.audit_log (audit_id, occurred_at, actor, action) OVERRIDING SYSTEM VALUE VALUES (1, '2026-01-01', 'ops', 'x') ON CONFLICT (audit_id, occurred_at) DO UPDATE SET action = 'x'$$),
  ('INSERT ON CONFLICT DO UPDATE partition', $$INSERT INTO ao.audit_log_2026_q1 (audit_id, occurred_at, actor, action) OVERRIDING SYSTEM VALUE VALUES (1, '2026-01-01', 'ops', 'x') ON CONFLICT (audit_id, occurred_at) DO UPDATE SET action = 'x'$$),
  ('INSERT ON CONFLICT DO UPDATE without conflict', $$INSERT INTO ao.audit_log (audit_id, occurred_at, actor, action) OVERRIDING SYSTEM VALUE VALUES (-5, '2026-01-01', 'ops', 'x') ON CONFLICT (audit_id, occurred_at) DO UPDATE SET action = 'x'$$),
  ('TRUNCATE parent', $$TRUNCATE ao.audit_log$$),
  ('TRUNCATE partition', $$TRUNCATE ao.audit_log_2026_q1$$),
  ('TRUNCATE a referenced table CASCADE', $$TRUNCATE ao.actors CASCADE$$),
  ('DELETE through a view', $$DELETE FROM ao.audit_view$$),
  ('UPDATE through a view', $$UPDATE ao.audit_view SET action = 'x'$$),
  ('DELETE through a rule on another table', $$INSERT INTO ao.cleanup VALUES (1)$$),
  ('DELETE through ON DELETE CASCADE', $$DELETE FROM ao.actors WHERE name = 'ingest'$$),
  ('DISABLE TRIGGER row parent', $$ALTER TABLE ao.audit_log DISABLE TRIGGER wallet_ops_append_only_row$$),
  ('DISABLE TRIGGER stmt partition', $$ALTER TABLE ao.audit_log_2026_q1 DISABLE TRIGGER wallet_ops_append_only_stmt$$),
  ('DISABLE TRIGGER ALL parent', $$ALTER TABLE ao.audit_log DISABLE TRIGGER ALL$$),
  ('DISABLE TRIGGER USER partition', $$ALTER TABLE ao.audit_log_2026_q2 DISABLE TRIGGER USER$$),
  ('ENABLE TRIGGER (not ALWAYS) parent', $$ALTER TABLE ao.audit_log ENABLE TRIGGER wallet_ops_append_only_stmt$$),
  ('ENABLE REPLICA TRIGGER partition', $$ALTER TABLE ao.audit_log_2026_q1 ENABLE REPLICA TRIGGER wallet_ops_append_only_row$$),
  ('DROP TRIGGER parent', $$DROP TRIGGER wallet_ops_append_only_row ON ao.audit_log$$),
  ('DROP TRIGGER partition', $$DROP TRIGGER wallet_ops_append_only_stmt ON ao.audit_log_2026_q1$$),
  ('ALTER TRIGGER RENAME parent', $$ALTER TRIGGER wallet_ops_append_only_row ON ao.audit_log RENAME TO x$$),
  ('ALTER TRIGGER RENAME partition', $$ALTER TRIGGER wallet_ops_append_only_stmt ON ao.audit_log_2026_q2 RENAME TO x$$),
  ('ALTER TRIGGER DEPENDS ON EXTENSION', $$ALTER TRIGGER wallet_ops_append_only_stmt ON ao.audit_log DEPENDS ON EXTENSION pg_trgm$$),
  ('CREATE OR REPLACE TRIGGER (our name)', $$CREATE OR REPLACE TRIGGER wallet_ops_append_only_row BEFORE UPDATE ON ao.audit_log FOR EACH ROW EXECUTE FUNCTION wallet_ops.append_only_guard()$$),
  ('CREATE TRIGGER (our name, other function)', $$CREATE TRIGGER wallet_ops_append_only_stmt BEFORE INSERT ON ao.cleanup EXECUTE FUNCTION suppress_redundant_updates_trigger()$$),
  ('DETACH PARTITION', $$ALTER TABLE ao.audit_log DETACH PARTITION ao.audit_log_2026_q1$$),
  ('DROP TABLE parent', $$DROP TABLE ao.audit_log$$),
  ('DROP TABLE partition', $$DROP TABLE ao.audit_log_2026_q2$$),
  ('DROP TABLE parent CASCADE', $$DROP TABLE ao.audit_log CASCADE$$),
  ('DROP SCHEMA CASCADE', $$DROP SCHEMA ao CASCADE$$),
  ('DROP OWNED BY the owner', $$DROP OWNED BY regress_ao_owner$$),
  ('DROP DOMAIN CASCADE (drops a column)', $$DROP DOMAIN ao.severity CASCADE$$),
  ('ALTER TABLE DROP COLUMN', $$ALTER TABLE ao.audit_log DROP COLUMN action$$),
  ('ALTER COLUMN TYPE ... USING', $$ALTER TABLE ao.audit_log ALTER COLUMN action TYPE varchar(3) USING left(action, 3)$$),
  ('ALTER TYPE ... RENAME VALUE (enum in a column)', $$ALTER TYPE ao.outcome RENAME VALUE 'denied' TO 'allowed!'$$),
  ('ALTER TABLE SET UNLOGGED partition', $$ALTER TABLE ao.audit_log_2026_q1 SET UNLOGGED$$),
  ('CREATE RULE parent', $$CREATE RULE swallow AS ON INSERT TO ao.audit_log DO INSTEAD NOTHING$$),
  ('CREATE RULE partition', $$CREATE RULE swallow AS ON INSERT TO ao.audit_log_2026_q1 DO INSTEAD NOTHING$$),
  ('CREATE TABLE ... INHERITS', $$CREATE TABLE ao.child () INHERITS (ao.audit_log_2026_q1)$$),
  ('CREATE FOREIGN TABLE ... PARTITION OF', $$CREATE FOREIGN TABLE ao.audit_log_2026_q3 PARTITION OF ao.audit_log FOR VALUES FROM ('2026-07-01') TO ('2026-10-01') SERVER regress_ao_server$$),
  ('ATTACH a foreign table', $$ALTER TABLE ao.audit_log ATTACH PARTITION ao.remote FOR VALUES FROM ('2026-07-01') TO ('2026-10-01')$$),
  ('DROP EXTENSION wallet_ops CASCADE', $$DROP EXTENSION wallet_ops CASCADE$$);

-- as the owner of the table
SET ROLE regress_ao_owner;
SELECT d.* FROM ao_test.doors, LATERAL ao_test.door(label, stmt) d ORDER BY n;
-- as the ingest role
SET ROLE regress_ao_ingest;
SELECT d.* FROM ao_test.doors, LATERAL ao_test.door(label, stmt) d ORDER BY n;
-- as a superuser with session_replication_role = replica: the triggers
-- and event triggers are ENABLE ALWAYS
RESET ROLE;
SET session_replication_role = replica;
SELECT d.* FROM ao_test.doors, LATERAL ao_test.door(label, stmt) d
 WHERE label ~ '^(UPDATE|DELETE|TRUNCATE|MERGE|INSERT|DISABLE|DROP TRIGGER|DETACH|DROP TABLE)'
   AND label !~ '(rule on|CASCADE|referenced)'
 ORDER BY n;
RESET session_replication_role;
-- the owner allowed to set session_replication_role (PostgreSQL 15+)
GRANT SET ON PARAMETER session_replication_role TO regress_ao_owner;
SET ROLE regress_ao_owner;
SET session_replication_role = replica;
SELECT d.* FROM ao_test.doors, LATERAL ao_test.door(label, stmt) d
 WHERE label IN ('UPDATE partition', 'DELETE parent', 'TRUNCATE partition', 'DROP TRIGGER partition')
 ORDER BY n;
RESET session_replication_role;
RESET ROLE;
REVOKE SET ON PARAMETER session_replication_role FROM regress_ao_owner;

-- DETACH ... CONCURRENTLY cannot run in a function: tried at top level
SET ROLE regress_ao_owner;
ALTER TABLE ao.audit_log DETACH PARTITION ao.audit_log_2026_q2 CONCURRENTLY;
RESET ROLE;
SELECT ao_test.rows();

-- still allowed: INSERT, COPY FROM, SELECT, indexes, ANALYZE, VACUUM,
-- new partitions, ADD COLUMN, ON CONFLICT DO NOTHING, MERGE that only inserts
TRUNCATE ao_test.doors;
INSERT INTO ao_test.doors (label, stmt) VALUES
  ('INSERT parent', $$INSERT INTO ao.audit_log (occurred_at, actor, action) VALUES ('2026-02-02', 'ops', 'insert')$$),
  ('INSERT partition', $$INSERT INTO ao.audit_log_2026_q1 (audit_id, occurred_at, actor, action) OVERRIDING SYSTEM VALUE VALUES (nextval(pg_get_serial_sequence('ao.audit_log', 'audit_id')), '2026-02-03', 'ops', 'insert')$$),
  ('INSERT ON CONFLICT DO NOTHING', $$INSERT INTO ao.audit_log (audit_id, occurred_at, actor, action) OVERRIDING SYSTEM VALUE VALUES (1, '2026-01-01', 'ops', 'x') ON CONFLICT DO NOTHING$$),
  ('MERGE that only inserts', $$MERGE INTO ao.audit_log a USING (SELECT -1 AS id) s ON a.audit_id = s.id WHEN NOT MATCHED THEN INSERT (occurred_at, actor, action) VALUES ('2026-03-03', 'ops', 'merge')$$),
  ('SELECT', $$SELECT count(*) FROM ao.audit_log$$),
  ('CREATE INDEX', $$CREATE INDEX ON ao.audit_log (actor)$$),
  ('ADD COLUMN', $$ALTER TABLE ao.audit_log ADD COLUMN note text$$),
  ('CREATE TABLE ... PARTITION OF', $$CREATE TABLE ao.audit_log_2026_q3 PARTITION OF ao.audit_log FOR VALUES FROM ('2026-07-01') TO ('2026-10-01')$$),
  ('INSERT new partition', $$INSERT INTO ao.audit_log (occurred_at, actor, action) VALUES ('2026-08-08', 'ops', 'insert')$$);
SET ROLE regress_ao_owner;
SELECT d.* FROM ao_test.doors, LATERAL ao_test.door(label, stmt) d ORDER BY n;
SET ROLE regress_ao_ingest;
SELECT d.* FROM ao_test.doors, LATERAL ao_test.door(label, stmt) d
 WHERE label LIKE 'INSERT%' ORDER BY n;
COPY ao.audit_log (occurred_at, actor, action) FROM stdin;
2026-05-05 00:00:00+00	ingest	copy
2026-05-06 00:00:00+00	ingest	copy
\.
COPY ao.audit_log_2026_q2 (audit_id, occurred_at, actor, action) FROM stdin;
-1	2026-05-07 00:00:00+00	ingest	copy
\.
SET ROLE regress_ao_owner;
ANALYZE ao.audit_log;
VACUUM ao.audit_log;
VACUUM FULL ao.audit_log_2026_q1;
RESET ROLE;
SELECT ao_test.rows();
-- the partition made above is protected like the others
SET ROLE regress_ao_owner;
SELECT d.* FROM (VALUES
  ('DELETE new partition', $$DELETE FROM ao.audit_log_2026_q3$$),
  ('TRUNCATE new partition', $$TRUNCATE ao.audit_log_2026_q3$$),
  ('DROP new partition', $$DROP TABLE ao.audit_log_2026_q3$$)) v(label, stmt),
  LATERAL ao_test.door(label, stmt) d;
RESET ROLE;

-- clean up: only after release can the tables go
SELECT wallet_ops.release_append_only('ao.audit_log');
DROP SCHEMA ao CASCADE;
DROP SCHEMA ao_test CASCADE;
DROP SERVER regress_ao_server;
DROP FOREIGN DATA WRAPPER regress_ao_fdw;
DROP EXTENSION pg_trgm;
DROP ROLE regress_ao_owner, regress_ao_ingest;
RESET TimeZone;
