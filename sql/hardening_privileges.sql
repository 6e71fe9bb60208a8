-- Hardening, family "privileges": no internal, trigger or event-trigger
-- function of wallet_ops is executable by PUBLIC, except the two row-trigger
-- functions PostgreSQL clones to new partitions (it checks EXECUTE, as the
-- role creating the partition, when it clones them); those fire only under
-- their reserved trigger names.  Everything still works for a table owner
-- who is not a superuser.
SET TimeZone = 'UTC';

-- what PUBLIC may execute: the public API only (no "_" names, no triggers)
SELECT p.oid::regprocedure AS executable_by_public
  FROM pg_proc p
 WHERE p.pronamespace = 'wallet_ops'::regnamespace
   AND has_function_privilege('public', p.oid, 'EXECUTE')
 ORDER BY p.oid::regprocedure::text;

-- nothing internal or trigger-like among them, but the two cloned ones
SELECT p.oid::regprocedure AS internal_executable_by_public
  FROM pg_proc p
 WHERE p.pronamespace = 'wallet_ops'::regnamespace
   AND has_function_privilege('public', p.oid, 'EXECUTE')
   AND (p.proname LIKE '\_%' OR p.prorettype IN ('trigger'::regtype, 'event_trigger'::regtype))
 ORDER BY p.oid::regprocedure::text;

CREATE ROLE regress_hp_owner;
CREATE ROLE regress_hp_ingest;
CREATE SCHEMA hp AUTHORIZATION regress_hp_owner;
GRANT USAGE ON SCHEMA hp TO PUBLIC;

SET ROLE regress_hp_owner;
-- wallet_ops' trigger functions under another name: refused, or inert
CREATE TABLE hp.mine (id int, chain_seq bigint, prev_hash bytea, row_hash bytea);
INSERT INTO hp.mine VALUES (1);
CREATE TRIGGER my_watch AFTER INSERT ON hp.mine
    FOR EACH STATEMENT EXECUTE FUNCTION wallet_ops.matview_watch();
SELECT wallet_ops._preloaded();
SELECT wallet_ops._matview_next_mode('hp.mine');
CREATE TRIGGER a_second_chain BEFORE INSERT ON hp.mine
    FOR EACH ROW EXECUTE FUNCTION wallet_ops._chain_before_insert();
CREATE TRIGGER my_guard BEFORE DELETE ON hp.mine
    FOR EACH ROW EXECUTE FUNCTION wallet_ops.append_only_guard();
\set VERBOSITY sqlstate
INSERT INTO hp.mine VALUES (2);
DELETE FROM hp.mine;
\set VERBOSITY default
SELECT * FROM hp.mine;

-- the public API still works for a non-superuser owner
CREATE TABLE hp.ledger (id bigint GENERATED ALWAYS AS IDENTITY, at date NOT NULL, what text)
    PARTITION BY RANGE (at);
CREATE TABLE hp.ledger_2026 PARTITION OF hp.ledger FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO hp.ledger (at, what) VALUES ('2026-01-02', 'a'), ('2026-02-03', 'b');
SELECT wallet_ops.enable_hash_chain('hp.ledger');
CREATE TABLE hp.ledger_2027 PARTITION OF hp.ledger FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
SELECT wallet_ops.grant_ingest('hp.ledger', 'regress_hp_ingest');
CREATE TABLE hp.audit (id int, what text);
SELECT wallet_ops.enforce_append_only('hp.audit');
SELECT wallet_ops.grant_ingest('hp.audit', 'regress_hp_ingest');
CREATE MATERIALIZED VIEW hp.audit_count AS SELECT count(*) AS n FROM hp.audit;
SELECT wallet_ops.manage_matview('hp.audit_count');
SET ROLE regress_hp_ingest;
INSERT INTO hp.ledger (at, what) VALUES ('2026-03-04', 'c'), ('2027-05-06', 'd');
INSERT INTO hp.audit VALUES (1, 'x');
SET ROLE regress_hp_owner;
SELECT id, chain_seq, row_hash IS NOT NULL AS hashed FROM hp.ledger ORDER BY id;
SELECT * FROM wallet_ops.verify_chain('hp.ledger');
SELECT tgrelid::regclass, tgname, tgenabled FROM pg_trigger
 WHERE tgrelid IN ('hp.ledger'::regclass, 'hp.ledger_2027'::regclass, 'hp.audit'::regclass)
   AND tgname NOT LIKE 'RI\_%'
 ORDER BY tgrelid::regclass::text, tgname;
DELETE FROM hp.audit;
SELECT count(*) FROM hp.audit;
RESET ROLE;

SELECT count(*) AS watch_triggers FROM pg_trigger
 WHERE tgrelid = 'hp.audit'::regclass AND tgname LIKE 'wallet_ops_matview%';

SET ROLE regress_hp_owner;
SELECT wallet_ops.unmanage_matview('hp.audit_count');
DROP MATERIALIZED VIEW hp.audit_count;
DROP TABLE hp.mine;
RESET ROLE;
SELECT wallet_ops.release_append_only('hp.audit');
SELECT wallet_ops.release_append_only('hp.ledger');
DROP SCHEMA hp CASCADE;
DROP ROLE regress_hp_owner, regress_hp_ingest;
