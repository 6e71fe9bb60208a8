-- Hardening, family "chain trigger": the hash chain's trigger
-- zzz_wallet_ops_hash_chain is kept in place like the append-only guards
-- (no DISABLE, DROP, RENAME, ENABLE REPLICA or ENABLE ALWAYS), and no
-- BEFORE INSERT row trigger may fire after it (triggers fire in name
-- order: a later one could rewrite a row after it was hashed).  Run as a
-- table owner who is not a superuser; after every attempt the rows, the
-- trigger's state and the chain are unchanged.
SET TimeZone = 'UTC';
CREATE ROLE regress_hct_owner;
CREATE SCHEMA hct AUTHORIZATION regress_hct_owner;

SET ROLE regress_hct_owner;
CREATE TABLE hct.ledger (id int NOT NULL, at date NOT NULL, what text) PARTITION BY RANGE (at);
CREATE TABLE hct.ledger_2026 PARTITION OF hct.ledger FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO hct.ledger VALUES (1, '2026-01-01', 'a'), (2, '2026-02-01', 'b');
SELECT wallet_ops.enable_hash_chain('hct.ledger');
CREATE FUNCTION hct.rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.what := 'rewritten'; RETURN NEW; END $$;
CREATE VIEW hct.state AS
    SELECT (SELECT count(*) FROM hct.ledger) AS rows,
           (SELECT string_agg(tgrelid::regclass || ':' || tgenabled::text, ', ' ORDER BY tgrelid::regclass::text)
              FROM pg_trigger WHERE tgname = 'zzz_wallet_ops_hash_chain'
                               AND tgrelid::regclass::text LIKE 'hct.%') AS chain_triggers,
           (SELECT count(*) FROM wallet_ops.verify_chain('hct.ledger')) AS problems;
SELECT * FROM hct.state;

-- switching the chain's trigger off, or changing when it fires
SELECT sqlstate_of($$ALTER TABLE hct.ledger DISABLE TRIGGER zzz_wallet_ops_hash_chain$$);
SELECT sqlstate_of($$ALTER TABLE hct.ledger_2026 DISABLE TRIGGER zzz_wallet_ops_hash_chain$$);
SELECT sqlstate_of($$ALTER TABLE hct.ledger ENABLE REPLICA TRIGGER zzz_wallet_ops_hash_chain$$);
SELECT sqlstate_of($$ALTER TABLE hct.ledger_2026 ENABLE REPLICA TRIGGER zzz_wallet_ops_hash_chain$$);
SELECT sqlstate_of($$ALTER TABLE hct.ledger ENABLE ALWAYS TRIGGER zzz_wallet_ops_hash_chain$$);
SELECT sqlstate_of($$ALTER TABLE hct.ledger DISABLE TRIGGER ALL$$);
SELECT sqlstate_of($$ALTER TABLE hct.ledger_2026 DISABLE TRIGGER USER$$);
SELECT sqlstate_of($$DROP TRIGGER zzz_wallet_ops_hash_chain ON hct.ledger$$);
SELECT sqlstate_of($$DROP TRIGGER zzz_wallet_ops_hash_chain ON hct.ledger_2026$$);
SELECT sqlstate_of($$ALTER TRIGGER zzz_wallet_ops_hash_chain ON hct.ledger RENAME TO aaa$$);
SELECT sqlstate_of($$ALTER TRIGGER zzz_wallet_ops_hash_chain ON hct.ledger_2026 RENAME TO aaa$$);
-- ENABLE (its mode already) is a no-op and allowed
SELECT sqlstate_of($$ALTER TABLE hct.ledger ENABLE TRIGGER zzz_wallet_ops_hash_chain$$);
-- the name is reserved: not with another function, not by renaming
SELECT sqlstate_of($$CREATE OR REPLACE TRIGGER zzz_wallet_ops_hash_chain BEFORE INSERT ON hct.ledger
                      FOR EACH ROW EXECUTE FUNCTION hct.rewrite()$$);
SELECT sqlstate_of($$CREATE TRIGGER aaa_mine BEFORE INSERT ON hct.ledger_2026
                      FOR EACH ROW EXECUTE FUNCTION hct.rewrite()$$);
SELECT sqlstate_of($$ALTER TRIGGER aaa_mine ON hct.ledger_2026 RENAME TO zzz_wallet_ops_hash_chain$$);
SELECT sqlstate_of($$DROP TRIGGER aaa_mine ON hct.ledger_2026$$);

-- outrunning it: a BEFORE INSERT row trigger sorting after it
SELECT sqlstate_of($$CREATE TRIGGER zzzz_rewrite BEFORE INSERT ON hct.ledger
                      FOR EACH ROW EXECUTE FUNCTION hct.rewrite()$$);
SELECT sqlstate_of($$CREATE TRIGGER zzzz_rewrite BEFORE INSERT OR UPDATE ON hct.ledger_2026
                      FOR EACH ROW EXECUTE FUNCTION hct.rewrite()$$);
SELECT sqlstate_of($$CREATE TRIGGER "~rewrite" BEFORE INSERT ON hct.ledger_2026
                      FOR EACH ROW EXECUTE FUNCTION hct.rewrite()$$);
SELECT sqlstate_of($$CREATE TRIGGER aaa_rewrite BEFORE INSERT ON hct.ledger
                      FOR EACH ROW EXECUTE FUNCTION hct.rewrite()$$);
SELECT sqlstate_of($$ALTER TRIGGER aaa_rewrite ON hct.ledger RENAME TO zzzz_rewrite$$);
-- harmless ones sorting after it: AFTER, statement level, not on INSERT
SELECT sqlstate_of($$CREATE TRIGGER zzzz_after AFTER INSERT ON hct.ledger
                      FOR EACH ROW EXECUTE FUNCTION hct.rewrite()$$);
SELECT sqlstate_of($$CREATE TRIGGER zzzz_stmt BEFORE INSERT ON hct.ledger
                      FOR EACH STATEMENT EXECUTE FUNCTION hct.rewrite()$$);
SELECT sqlstate_of($$CREATE TRIGGER zzzz_update BEFORE UPDATE ON hct.ledger
                      FOR EACH ROW EXECUTE FUNCTION hct.rewrite()$$);
-- a table joining the chain with such a trigger
CREATE TABLE hct.ledger_2027 (id int NOT NULL, at date NOT NULL, what text,
                              chain_seq bigint, prev_hash bytea, row_hash bytea);
CREATE TRIGGER zzzz_rewrite BEFORE INSERT ON hct.ledger_2027
    FOR EACH ROW EXECUTE FUNCTION hct.rewrite();
SELECT sqlstate_of($$ALTER TABLE hct.ledger ATTACH PARTITION hct.ledger_2027
                      FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')$$);
-- a table chained with such a trigger already there
CREATE TABLE hct.other (id int, what text);
CREATE TRIGGER zzzz_rewrite BEFORE INSERT ON hct.other FOR EACH ROW EXECUTE FUNCTION hct.rewrite();
SELECT sqlstate_of($$SELECT wallet_ops.enable_hash_chain('hct.other')$$);
SELECT count(*) AS other_chained FROM wallet_ops.hash_chains WHERE relid = 'hct.other'::regclass;

-- rows go on being chained, with the values inserted
INSERT INTO hct.ledger VALUES (3, '2026-03-01', 'c');
SELECT * FROM hct.state;
SELECT id, what, chain_seq FROM hct.ledger ORDER BY id;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'hct.ledger'::regclass AND NOT tgisinternal ORDER BY tgname;
RESET ROLE;

-- a superuser in replica mode: the chain's trigger still cannot be moved
SET session_replication_role = replica;
SELECT sqlstate_of($$ALTER TABLE hct.ledger ENABLE REPLICA TRIGGER zzz_wallet_ops_hash_chain$$);
RESET session_replication_role;

-- released by a superuser, the table and its chain's trigger can go
SELECT wallet_ops.release_append_only('hct.ledger');
DROP SCHEMA hct CASCADE;
DROP ROLE regress_hct_owner;
