-- Append-only tables: the API (enforce_append_only, release_append_only,
-- grant_ingest, revoke_ingest) and what it puts on tables and partitions.
-- The doors it closes are tested one by one in append_doors.sql.
CREATE ROLE regress_ao_owner;
CREATE ROLE regress_ao_ingest;
CREATE ROLE regress_ao_other;
CREATE SCHEMA ao_api AUTHORIZATION regress_ao_owner;
GRANT USAGE ON SCHEMA ao_api TO regress_ao_other;
SET ROLE regress_ao_owner;
SET TimeZone = 'UTC';
CREATE TABLE ao_api.audit_log (
    audit_id    bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at timestamptz NOT NULL,
    seq         bigserial,
    actor       text NOT NULL,
    PRIMARY KEY (audit_id, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE TABLE ao_api.audit_log_2026_q1 PARTITION OF ao_api.audit_log
    FOR VALUES FROM ('2026-01-01') TO ('2026-04-01');
CREATE TABLE ao_api.plain (id int);
INSERT INTO ao_api.audit_log (occurred_at, actor) VALUES ('2026-01-02', 'a'), ('2026-02-02', 'b');

-- the guard triggers, as a view of pg_trigger
CREATE VIEW ao_api.guards AS
SELECT t.tgrelid::regclass AS rel, t.tgname, t.tgenabled,
       t.tgparentid <> 0 AS cloned,
       pg_catalog.pg_get_triggerdef(t.oid) ~ 'FOR EACH ROW' AS per_row
  FROM pg_catalog.pg_trigger t
 WHERE t.tgname LIKE 'wallet\_ops\_append\_only\_%'
   AND t.tgrelid::regclass::text LIKE 'ao\_api.%'
 ORDER BY 1, 2;

-- bad input: not the owner, not a table, NULL
SET ROLE regress_ao_other;
SELECT wallet_ops.enforce_append_only('ao_api.audit_log');
SET ROLE regress_ao_owner;
CREATE SEQUENCE ao_api.s;
SELECT wallet_ops.enforce_append_only('ao_api.s');
SELECT wallet_ops.enforce_append_only('ao_api.guards');
SELECT wallet_ops.enforce_append_only(NULL);
CREATE UNLOGGED TABLE ao_api.u (id int);
SELECT wallet_ops.enforce_append_only('ao_api.u');
CREATE TEMP TABLE tmp_t (id int);
SELECT wallet_ops.enforce_append_only('tmp_t');
DROP TABLE tmp_t;
CREATE TABLE ao_api.inh_parent (id int);
CREATE TABLE ao_api.inh_child () INHERITS (ao_api.inh_parent);
SELECT wallet_ops.enforce_append_only('ao_api.inh_parent');
SELECT wallet_ops.enforce_append_only('ao_api.inh_child');
-- the guard trigger names: only the owner, only with the guard function
CREATE TABLE ao_api.victim (id int);
GRANT TRIGGER ON ao_api.victim TO regress_ao_other;
SET ROLE regress_ao_other;
CREATE TRIGGER wallet_ops_append_only_row BEFORE UPDATE OR DELETE ON ao_api.victim
    FOR EACH ROW EXECUTE FUNCTION wallet_ops.append_only_guard();
SET ROLE regress_ao_owner;
CREATE TRIGGER wallet_ops_append_only_row BEFORE UPDATE OR DELETE ON ao_api.victim
    FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
DROP TABLE ao_api.victim;
-- nothing was left behind by the refusals
SELECT count(*) FROM wallet_ops.append_only_tables;
SELECT * FROM ao_api.guards;

-- protect the partitioned table: row trigger cloned, statement trigger on
-- each member, all ENABLE ALWAYS
SELECT wallet_ops.enforce_append_only('ao_api.audit_log');
SELECT relid, protected_by FROM wallet_ops.append_only_tables;
SELECT * FROM ao_api.guards;
-- re-running is harmless
SELECT wallet_ops.enforce_append_only('ao_api.audit_log');
SELECT count(*) FROM ao_api.guards;
-- a partition is covered by its parent
SELECT wallet_ops.enforce_append_only('ao_api.audit_log_2026_q1');
SELECT count(*) FROM wallet_ops.append_only_tables;

-- future partitions: CREATE TABLE ... PARTITION OF and ATTACH PARTITION
CREATE TABLE ao_api.audit_log_2026_q2 PARTITION OF ao_api.audit_log
    FOR VALUES FROM ('2026-04-01') TO ('2026-07-01');
CREATE TABLE ao_api.q3 (LIKE ao_api.audit_log);
INSERT INTO ao_api.q3 (audit_id, occurred_at, seq, actor) VALUES (100, '2026-08-01', 100, 'c');
ALTER TABLE ao_api.audit_log ATTACH PARTITION ao_api.q3
    FOR VALUES FROM ('2026-07-01') TO ('2026-10-01');
-- a sub-partitioned partition
CREATE TABLE ao_api.audit_log_2026_q4 PARTITION OF ao_api.audit_log
    FOR VALUES FROM ('2026-10-01') TO ('2027-01-01') PARTITION BY RANGE (occurred_at);
CREATE TABLE ao_api.audit_log_2026_10 PARTITION OF ao_api.audit_log_2026_q4
    FOR VALUES FROM ('2026-10-01') TO ('2026-11-01');
SELECT * FROM ao_api.guards;
DELETE FROM ao_api.q3;
DELETE FROM ao_api.audit_log_2026_10;
TRUNCATE ao_api.audit_log_2026_q4;
SELECT count(*) FROM ao_api.audit_log;

-- a table protected on its own, then attached to a protected table: its
-- own row trigger gives way to the clone, it stays protected
CREATE TABLE ao_api.old (LIKE ao_api.audit_log);
INSERT INTO ao_api.old (audit_id, occurred_at, seq, actor) VALUES (200, '2025-06-01', 200, 'd');
SELECT wallet_ops.enforce_append_only('ao_api.old');
SELECT * FROM ao_api.guards WHERE rel = 'ao_api.old'::regclass;
CREATE TABLE ao_api.audit_log_2025 PARTITION OF ao_api.audit_log
    FOR VALUES FROM ('2025-01-01') TO ('2025-06-01');
ALTER TABLE ao_api.audit_log ATTACH PARTITION ao_api.old
    FOR VALUES FROM ('2025-06-01') TO ('2026-01-01');
SELECT * FROM ao_api.guards WHERE rel = 'ao_api.old'::regclass;
SELECT relid FROM wallet_ops.append_only_tables ORDER BY 1;
DELETE FROM ao_api.old;

-- a plain table
INSERT INTO ao_api.plain VALUES (1), (2);
SELECT wallet_ops.enforce_append_only('ao_api.plain');
SELECT * FROM ao_api.guards WHERE rel = 'ao_api.plain'::regclass;
UPDATE ao_api.plain SET id = 3;
INSERT INTO ao_api.plain VALUES (3);
SELECT * FROM ao_api.plain ORDER BY 1;

-- a protected table attached under an unprotected parent: changes through
-- that parent fire no statement trigger of the partition, the row trigger
-- refuses them
CREATE TABLE ao_api.outer_parent (id int) PARTITION BY RANGE (id);
ALTER TABLE ao_api.outer_parent ATTACH PARTITION ao_api.plain FOR VALUES FROM (0) TO (100);
UPDATE ao_api.outer_parent SET id = id + 1;
DELETE FROM ao_api.outer_parent;
SELECT count(*) FROM ao_api.plain;
ALTER TABLE ao_api.outer_parent DETACH PARTITION ao_api.plain;
DROP TABLE ao_api.outer_parent;

-- grant_ingest: INSERT on the table, its partitions and its sequences
SET ROLE regress_ao_other;
SELECT wallet_ops.grant_ingest('ao_api.audit_log', 'regress_ao_ingest');
SET ROLE regress_ao_owner;
SELECT wallet_ops.grant_ingest('ao_api.audit_log', 'regress_no_such_role');
SELECT wallet_ops.grant_ingest('ao_api.s', 'regress_ao_ingest');
GRANT UPDATE, DELETE ON ao_api.audit_log_2026_q1 TO regress_ao_ingest;
SELECT wallet_ops.grant_ingest('ao_api.audit_log', 'regress_ao_ingest');
SELECT wallet_ops.grant_ingest('ao_api.audit_log', 'regress_ao_ingest');
SELECT relid, role_name FROM wallet_ops.ingest_grants;
-- the role can reach the schema
SELECT pg_catalog.has_schema_privilege('regress_ao_ingest', 'ao_api', 'USAGE');
CREATE TABLE ao_api.audit_log_2027_q1 PARTITION OF ao_api.audit_log
    FOR VALUES FROM ('2027-01-01') TO ('2027-04-01');
SELECT c.oid::regclass AS rel,
       pg_catalog.has_table_privilege('regress_ao_ingest', c.oid, 'INSERT') AS ins,
       pg_catalog.has_table_privilege('regress_ao_ingest', c.oid, 'SELECT') AS sel,
       pg_catalog.has_table_privilege('regress_ao_ingest', c.oid, 'UPDATE') AS upd,
       pg_catalog.has_table_privilege('regress_ao_ingest', c.oid, 'DELETE') AS del,
       pg_catalog.has_table_privilege('regress_ao_ingest', c.oid, 'TRUNCATE') AS trunc
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace = 'ao_api'::regnamespace AND c.relname LIKE 'audit\_log%'
   AND c.relkind IN ('r', 'p')
 ORDER BY 1;
SELECT c.relname, pg_catalog.has_sequence_privilege('regress_ao_ingest', c.oid, 'USAGE') AS usage,
       pg_catalog.has_sequence_privilege('regress_ao_ingest', c.oid, 'UPDATE') AS setval
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace = 'ao_api'::regnamespace AND c.relkind = 'S' ORDER BY 1;
SET ROLE regress_ao_ingest;
INSERT INTO ao_api.audit_log (occurred_at, actor) VALUES ('2026-03-03', 'ingest');
INSERT INTO ao_api.audit_log_2027_q1 (audit_id, occurred_at, actor)
    OVERRIDING SYSTEM VALUE VALUES (nextval(pg_get_serial_sequence('ao_api.audit_log', 'audit_id')), '2027-02-02', 'ingest');
INSERT INTO ao_api.audit_log (occurred_at, actor) VALUES ('2026-03-04', 'ingest') RETURNING audit_id;
UPDATE ao_api.audit_log_2026_q1 SET actor = 'x';
SET ROLE regress_ao_owner;
SELECT actor, count(*) FROM ao_api.audit_log GROUP BY 1 ORDER BY 1;
-- revoke_ingest undoes it, present and future
SELECT wallet_ops.revoke_ingest('ao_api.audit_log', 'regress_ao_ingest');
SELECT count(*) FROM wallet_ops.ingest_grants;
SELECT pg_catalog.has_table_privilege('regress_ao_ingest', 'ao_api.audit_log_2027_q1', 'INSERT');
SELECT wallet_ops.grant_ingest('ao_api.audit_log', 'regress_ao_ingest');

-- release: superuser only, WARNING, the table is ordinary again
SELECT wallet_ops.release_append_only('ao_api.audit_log');
RESET ROLE;
GRANT EXECUTE ON FUNCTION wallet_ops.release_append_only(regclass) TO regress_ao_owner;
SET ROLE regress_ao_owner;
SELECT wallet_ops.release_append_only('ao_api.audit_log');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION wallet_ops.release_append_only(regclass) FROM regress_ao_owner;
SELECT wallet_ops.release_append_only('ao_api.audit_log_2026_q1');
SELECT wallet_ops.release_append_only('ao_api.s');
SELECT wallet_ops.release_append_only('ao_api.audit_log');
SELECT wallet_ops.release_append_only('ao_api.audit_log');
SELECT * FROM ao_api.guards;
SELECT relid FROM wallet_ops.append_only_tables ORDER BY 1;
SELECT object, action, outcome, detail FROM wallet_ops.job_log
 WHERE kind = 'append_only' ORDER BY job_id;
SET ROLE regress_ao_owner;
DELETE FROM ao_api.audit_log WHERE actor = 'ingest';
ALTER TABLE ao_api.audit_log DETACH PARTITION ao_api.q3;
TRUNCATE ao_api.audit_log;
RESET ROLE;
SELECT wallet_ops.release_append_only('ao_api.plain');

-- dropping a table forgets its ingest grants
DROP SCHEMA ao_api CASCADE;
SELECT count(*) FROM wallet_ops.ingest_grants;
SELECT count(*) FROM wallet_ops.append_only_tables;
DROP ROLE regress_ao_owner, regress_ao_ingest, regress_ao_other;
RESET TimeZone;
