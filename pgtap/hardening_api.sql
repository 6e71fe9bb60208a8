-- pgTAP: the SQLSTATEs of the hardening refusals (sql/hardening_*.sql has
-- every attempt with its message and the data checked after it).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS wallet_ops;
BEGIN;
SELECT plan(24);

CREATE ROLE tap_h_owner;
CREATE SCHEMA tap_h AUTHORIZATION tap_h_owner;
SET ROLE tap_h_owner;
CREATE TABLE tap_h.led (id int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE tap_h.led_2026 PARTITION OF tap_h.led FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO tap_h.led VALUES (1, '2026-01-01');
SELECT wallet_ops.enable_hash_chain('tap_h.led');
CREATE TABLE tap_h.full_2027 (LIKE tap_h.led);
INSERT INTO tap_h.full_2027 (id, at) VALUES (2, '2027-01-01');
CREATE FUNCTION tap_h.keep() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TYPE tap_h.comp AS (a int, b text);
CREATE TABLE tap_h.audit (id int, c tap_h.comp);
SELECT wallet_ops.enforce_append_only('tap_h.audit');
CREATE MATERIALIZED VIEW tap_h.mv AS SELECT count(*) FROM tap_h.audit;
CREATE TABLE tap_h.digest AS SELECT wallet_ops.chain_digest('tap_h.led') AS d;

-- the extension's own schema and the catalogs are not guarded
SELECT throws_ok($$SELECT wallet_ops.enforce_append_only('wallet_ops.job_log')$$, '42501', NULL,
                 'enforce_append_only refuses wallet_ops.job_log');
SELECT throws_ok($$SELECT wallet_ops.enable_hash_chain('wallet_ops.job_log')$$, '42501', NULL,
                 'enable_hash_chain refuses wallet_ops.job_log');
SELECT throws_ok($$SELECT * FROM wallet_ops.manage_partitions('wallet_ops.job_log', 'month')$$, '42501', NULL,
                 'manage_partitions refuses wallet_ops.job_log');
SELECT throws_ok($$SELECT wallet_ops.schedule_verification('wallet_ops.hash_chains', '1 day')$$, '42501', NULL,
                 'schedule_verification refuses wallet_ops.hash_chains');
SELECT throws_ok($$SELECT wallet_ops.enforce_append_only('pg_catalog.pg_class')$$, '42501', NULL,
                 'enforce_append_only refuses a system catalog');

-- the chain's trigger stays in place, and nothing fires after it
SELECT throws_ok($$ALTER TABLE tap_h.led DISABLE TRIGGER zzz_wallet_ops_hash_chain$$, '42501', NULL,
                 'the chain trigger cannot be disabled');
SELECT throws_ok($$ALTER TABLE tap_h.led_2026 ENABLE REPLICA TRIGGER zzz_wallet_ops_hash_chain$$, '42501', NULL,
                 'the chain trigger cannot be made ENABLE REPLICA');
SELECT throws_ok($$ALTER TABLE tap_h.led ENABLE ALWAYS TRIGGER zzz_wallet_ops_hash_chain$$, '42501', NULL,
                 'the chain trigger cannot be made ENABLE ALWAYS');
SELECT throws_ok($$DROP TRIGGER zzz_wallet_ops_hash_chain ON tap_h.led$$, '42501', NULL,
                 'the chain trigger cannot be dropped');
SELECT throws_ok($$ALTER TRIGGER zzz_wallet_ops_hash_chain ON tap_h.led RENAME TO x$$, '42501', NULL,
                 'the chain trigger cannot be renamed');
SELECT throws_ok($$CREATE TRIGGER zzzz BEFORE INSERT ON tap_h.led FOR EACH ROW EXECUTE FUNCTION tap_h.keep()$$,
                 '42501', NULL, 'a BEFORE INSERT trigger firing after the chain''s is refused');
SELECT lives_ok($$CREATE TRIGGER aaaa BEFORE INSERT ON tap_h.led FOR EACH ROW EXECUTE FUNCTION tap_h.keep()$$,
                'a BEFORE INSERT trigger firing before it is fine');
SELECT throws_ok($$ALTER TABLE tap_h.led ATTACH PARTITION tap_h.full_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')$$,
                 '55000', NULL, 'a table holding rows cannot join a chained table');

-- type changes under a protected table
SELECT throws_ok($$ALTER TYPE tap_h.comp DROP ATTRIBUTE b$$, '42501', NULL,
                 'DROP ATTRIBUTE of a type a protected column holds is refused');
SELECT throws_ok($$ALTER TYPE tap_h.comp ALTER ATTRIBUTE a TYPE bigint$$, '42501', NULL,
                 'ALTER ATTRIBUTE TYPE of a type a protected column holds is refused');

-- intervals bounded at entry
SELECT throws_ok($$SELECT wallet_ops.schedule_verification('tap_h.led', '250000 years')$$, '22023', NULL,
                 'schedule_verification refuses an interval that overflows');
SELECT throws_ok($$SELECT wallet_ops.manage_matview('tap_h.mv', '250000 years')$$, '22023', NULL,
                 'manage_matview refuses a refresh_every that overflows');

-- malformed digests
SELECT throws_ok($$SELECT * FROM wallet_ops.verify_against_digest('tap_h.led', '[]')$$, '22023',
                 'digest must be a JSON object', 'a digest that is not an object');
SELECT throws_ok($$SELECT * FROM wallet_ops.verify_against_digest('tap_h.led',
                   (SELECT d - 'chains' FROM tap_h.digest))$$, '22023',
                 'digest field "chains" is missing', 'a digest without chains');
SELECT throws_ok($$SELECT * FROM wallet_ops.verify_since_digest('tap_h.led',
                   (SELECT d || '{"chains": 1}' FROM tap_h.digest))$$, '22023',
                 'digest field "chains" must be an array', 'chains that is not an array');
SELECT throws_ok($$SELECT * FROM wallet_ops.verify_since_digest('tap_h.led',
                   (SELECT jsonb_set(d, '{chains,0,last_seq}', '"x"') FROM tap_h.digest))$$, '22023',
                 'digest field "chains[0].last_seq" must be an integer', 'a last_seq that is not an integer');
SELECT throws_ok($$SELECT * FROM wallet_ops.verify_against_digest('tap_h.led',
                   (SELECT jsonb_set(d, '{chains,0,head_hash}', '"00"') FROM tap_h.digest))$$, '22023',
                 'digest field "chains[0].head_hash" must be 64 hexadecimal digits', 'a head_hash that is not one');
RESET ROLE;

-- no internal function executable by PUBLIC but the two cloned trigger functions
SELECT is((SELECT array_agg(p.proname::text ORDER BY p.proname)
             FROM pg_proc p
            WHERE p.pronamespace = 'wallet_ops'::regnamespace
              AND has_function_privilege('public', p.oid, 'EXECUTE')
              AND (p.proname LIKE '\_%' OR p.prorettype IN ('trigger'::regtype, 'event_trigger'::regtype))),
          ARRAY['_chain_before_insert', 'append_only_guard'],
          'only the two cloned trigger functions are executable by PUBLIC');
SELECT ok(NOT has_function_privilege('public', 'wallet_ops._preloaded()', 'EXECUTE'),
          '_preloaded is not executable by PUBLIC');

SELECT * FROM finish();
ROLLBACK;
