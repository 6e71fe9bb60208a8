-- Hash chains and transactions: rolled-back inserts leave no trace,
-- savepoints keep the chain consistent, rows the trigger numbered but that
-- never reached the table stop the commit.
SET search_path = ledger_t, public;
CREATE TABLE tx (id int PRIMARY KEY, acct text NOT NULL, v numeric);
SELECT wallet_ops.enable_hash_chain('tx', '{acct}', '{id,acct,v}');
INSERT INTO tx VALUES (1, 'a', 1), (2, 'b', 2);
CREATE TABLE heads_before AS SELECT chain_key, last_seq, last_hash FROM wallet_ops.chain_heads WHERE relid = 'tx'::regclass;

-- a rolled-back insert, also into a new chain, leaves no trace
BEGIN;
INSERT INTO tx VALUES (3, 'a', 3), (4, 'new', 4);
SELECT acct, chain_seq FROM tx ORDER BY id;
-- inside the transaction, verify_chain sees its own rows and heads
SELECT * FROM wallet_ops.verify_chain('tx');
ROLLBACK;
SELECT (SELECT count(*) FROM wallet_ops.chain_heads h WHERE relid = 'tx'::regclass
         AND NOT EXISTS (SELECT 1 FROM heads_before b WHERE b.chain_key = h.chain_key
                           AND b.last_seq = h.last_seq AND b.last_hash = h.last_hash)) AS heads_changed;
INSERT INTO tx VALUES (5, 'a', 5);
SELECT id, acct, chain_seq FROM tx ORDER BY id;

-- savepoints: rows of a rolled-back savepoint give their numbers back,
-- released ones keep them, nested levels unwind correctly
BEGIN;
INSERT INTO tx VALUES (10, 'a', 10);
SAVEPOINT s1;
INSERT INTO tx VALUES (11, 'a', 11), (12, 'c', 12);
ROLLBACK TO s1;
INSERT INTO tx VALUES (13, 'a', 13);
SAVEPOINT s2;
INSERT INTO tx VALUES (14, 'a', 14);
SAVEPOINT s3;
INSERT INTO tx VALUES (15, 'a', 15), (16, 'd', 16);
RELEASE s3;
ROLLBACK TO s2;
SAVEPOINT s4;
INSERT INTO tx VALUES (17, 'a', 17);
SAVEPOINT s5;
INSERT INTO tx VALUES (18, 'e', 18);
RELEASE s5;
RELEASE s4;
-- chains first made in rolled-back savepoints start again at 1
INSERT INTO tx VALUES (21, 'c', 21), (22, 'd', 22);
-- an error inside a PL/pgSQL exception block is a subtransaction too
DO $$
BEGIN
  INSERT INTO ledger_t.tx VALUES (19, 'a', 19);
  INSERT INTO ledger_t.tx VALUES (1, 'a', 0);     -- duplicate key
EXCEPTION WHEN unique_violation THEN
  RAISE NOTICE 'duplicate rolled back';
END $$;
INSERT INTO tx VALUES (20, 'a', 20);
COMMIT;
SELECT id, acct, chain_seq FROM tx ORDER BY acct, chain_seq;
SELECT chain_key, last_seq FROM wallet_ops.chain_heads WHERE relid = 'tx'::regclass ORDER BY 1;
SELECT * FROM wallet_ops.verify_chain('tx');

-- a failed statement in autocommit leaves the chain as it was
SELECT err($$INSERT INTO ledger_t.tx VALUES (30, 'a', 30), (1, 'a', 0)$$);
INSERT INTO tx VALUES (31, 'a', 31);
SELECT id, chain_seq FROM tx WHERE acct = 'a' ORDER BY chain_seq DESC LIMIT 2;

-- INSERT ... ON CONFLICT DO NOTHING that skips a numbered row cannot commit
INSERT INTO tx VALUES (40, 'a', 40) ON CONFLICT DO NOTHING;
INSERT INTO tx VALUES (40, 'a', 41) ON CONFLICT DO NOTHING;
BEGIN;
INSERT INTO tx VALUES (40, 'a', 41), (41, 'a', 41) ON CONFLICT DO NOTHING;
COMMIT;
SELECT id, chain_seq FROM tx WHERE acct = 'a' ORDER BY chain_seq DESC LIMIT 2;
-- nor through a data-modifying WITH, nor inside a function
BEGIN;
WITH w AS (INSERT INTO tx VALUES (40, 'a', 42) ON CONFLICT DO NOTHING RETURNING id)
SELECT count(*) FROM w;
COMMIT;
CREATE FUNCTION ins_ignore(i int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ledger_t.tx VALUES (i, 'a', 43) ON CONFLICT DO NOTHING;
END $$;
SELECT ins_ignore(40);
-- nor as the first statement of a session (before the executor hooks that
-- spot ON CONFLICT are in place)
\c
SET search_path = ledger_t, public;
INSERT INTO tx VALUES (40, 'a', 44) ON CONFLICT DO NOTHING;
SELECT id, chain_seq FROM tx WHERE acct = 'a' ORDER BY chain_seq DESC LIMIT 2;
-- nor can a row dropped by a BEFORE trigger that fires after the chain's
-- (creating one is refused: sql/hardening_chain_trigger.sql; such a trigger
-- can only predate the refusal, or come from a superuser who switched the
-- event trigger off, as here)
CREATE FUNCTION drop_odd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id % 2 = 1 THEN RETURN NULL; END IF;
  RETURN NEW;
END $$;
ALTER EVENT TRIGGER wallet_ops_append_only_ddl_start DISABLE;
CREATE TRIGGER zzzz_drop_odd BEFORE INSERT ON tx FOR EACH ROW EXECUTE FUNCTION drop_odd();
ALTER EVENT TRIGGER wallet_ops_append_only_ddl_start ENABLE ALWAYS;
BEGIN;
INSERT INTO tx VALUES (50, 'a', 50), (51, 'a', 51), (52, 'a', 52);
COMMIT;
DROP TRIGGER zzzz_drop_odd ON tx;
SELECT * FROM wallet_ops.verify_chain('tx');

-- COPY goes through the trigger as well
COPY tx (id, acct, v) FROM stdin;
60	a	60
61	f	61
\.
SELECT id, acct, chain_seq FROM tx WHERE id >= 60 ORDER BY id;
SELECT * FROM wallet_ops.verify_chain('tx');

-- a transaction extending many chains writes their heads in one statement
-- (and creates the new ones as it goes): heads and chains stay in step
BEGIN;
INSERT INTO tx SELECT 100 + n, 'm' || (n % 12), n FROM generate_series(1, 30) n;
INSERT INTO tx SELECT 200 + n, 'm' || (n % 12), n FROM generate_series(1, 6) n;
COMMIT;
SELECT count(*) AS chains, sum(h.last_seq) AS rows,
       count(*) FILTER (WHERE h.last_seq = m.top AND h.last_hash = m.hash) AS in_step
  FROM wallet_ops.chain_heads h
  JOIN (SELECT DISTINCT ON (acct) acct, chain_seq AS top, row_hash AS hash
          FROM tx ORDER BY acct, chain_seq DESC) m ON m.acct = h.chain_key
 WHERE h.relid = 'tx'::regclass AND h.chain_key LIKE 'm%';
INSERT INTO tx SELECT 300 + n, 'm' || n, n FROM generate_series(0, 11) n;
SELECT * FROM wallet_ops.verify_chain('tx');

-- a table whose chain is kept in another transaction isolation level
BEGIN ISOLATION LEVEL REPEATABLE READ;
INSERT INTO tx VALUES (70, 'a', 70);
COMMIT;
BEGIN ISOLATION LEVEL SERIALIZABLE;
INSERT INTO tx VALUES (71, 'a', 71);
COMMIT;
SELECT * FROM wallet_ops.verify_chain('tx');
SELECT chain_key, last_seq FROM wallet_ops.chain_heads WHERE relid = 'tx'::regclass AND chain_key = 'a';

-- dropping a chained table (or a schema holding one) removes its
-- configuration and heads
CREATE TABLE gone (v int);
SELECT wallet_ops.enable_hash_chain('gone');
INSERT INTO gone VALUES (1);
SELECT count(*) FROM wallet_ops.chain_heads WHERE relid = 'gone'::regclass;
-- a chained table is append-only: a superuser releases it before dropping it
SET client_min_messages = error;
SELECT wallet_ops.release_append_only('gone');
RESET client_min_messages;
DROP TABLE gone;
SELECT count(*) AS configs FROM wallet_ops.hash_chains WHERE relid::oid NOT IN (SELECT oid FROM pg_class);
SELECT count(*) AS heads FROM wallet_ops.chain_heads WHERE relid::oid NOT IN (SELECT oid FROM pg_class);
-- a chained table created, filled and dropped in one transaction
BEGIN;
CREATE TABLE brief (v int);
SELECT wallet_ops.enable_hash_chain('brief');
INSERT INTO brief VALUES (1), (2);
SET client_min_messages = error;
SELECT wallet_ops.release_append_only('brief');
RESET client_min_messages;
DROP TABLE brief;
COMMIT;
SELECT count(*) AS leftovers FROM wallet_ops.chain_heads WHERE relid::oid NOT IN (SELECT oid FROM pg_class);
