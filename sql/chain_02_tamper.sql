-- Hash chains: tampering done around the trigger is found by verify_chain
-- and verify_against_digest, each problem at its chain and chain_seq.
-- (A superuser lifts the append-only protection for each edit and bypasses
-- the trigger with session_replication_role = replica.)
SET search_path = ledger_t, public;
-- Tampering below is what a superuser can do: lift the append-only
-- protection for a moment (its WARNING is silenced here) and bypass the
-- hash-chain trigger with session_replication_role = replica.
CREATE FUNCTION pg_temp.unprotect(VARIADIC tbls regclass[]) RETURNS void
LANGUAGE plpgsql SET client_min_messages = error AS $$
DECLARE t regclass;
BEGIN
    FOREACH t IN ARRAY tbls LOOP PERFORM wallet_ops.release_append_only(t); END LOOP;
END $$;
CREATE FUNCTION pg_temp.protect(VARIADIC tbls regclass[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE t regclass;
BEGIN
    FOREACH t IN ARRAY tbls LOOP PERFORM wallet_ops.enforce_append_only(t); END LOOP;
END $$;
CREATE TABLE ledger (
    id        bigint GENERATED ALWAYS AS IDENTITY,
    account   int NOT NULL,
    amount    numeric NOT NULL,
    memo      text,
    booked_at timestamptz NOT NULL
) PARTITION BY RANGE (booked_at);
CREATE TABLE ledger_h1 PARTITION OF ledger FOR VALUES FROM ('2026-01-01 00:00+00') TO ('2026-07-01 00:00+00');
CREATE TABLE ledger_h2 PARTITION OF ledger FOR VALUES FROM ('2026-07-01 00:00+00') TO ('2027-01-01 00:00+00');
SELECT wallet_ops.enable_hash_chain('ledger', '{account}');
-- accounts 1..8, ten entries each, spread over both partitions
INSERT INTO ledger (account, amount, memo, booked_at)
SELECT 1 + n % 8, n * 1.25, 'entrée ' || n, timestamptz '2026-01-01 00:00+00' + n * interval '4 days'
  FROM generate_series(1, 80) n;
SELECT * FROM wallet_ops.verify_chain('ledger');
CREATE TABLE anchor AS SELECT wallet_ops.chain_digest('ledger') AS d;
SELECT d->>'format' AS format, d->>'table' AS tbl, d->>'hash_format' AS hash_format,
       d->'chain_count' AS chains, d->'row_count' AS rows,
       jsonb_array_length(d->'chains') AS listed,
       d->'chains'->0->>'chain_key' AS first_chain, d->'chains'->0->'last_seq' AS first_last_seq,
       length(d->>'merkle_root') AS root_len,
       d->>'system_identifier' = (SELECT system_identifier::text FROM pg_control_system()) AS sysid_ok
  FROM anchor;
-- the digest's heads are the chains' last rows
SELECT count(*) AS heads_match
  FROM anchor, jsonb_array_elements(d->'chains') c
  JOIN ledger l ON l.account = (c->>'chain_key')::int AND l.chain_seq = (c->>'last_seq')::bigint
 WHERE encode(l.row_hash, 'hex') = c->>'head_hash';
SELECT * FROM wallet_ops.verify_against_digest('ledger', (SELECT d FROM anchor));

SELECT pg_temp.unprotect('ledger');
SET session_replication_role = replica;
-- account 2: one byte of one column of one row
UPDATE ledger SET memo = 'entrée 9!' WHERE account = 2 AND chain_seq = 2;
-- account 3: a middle row deleted
DELETE FROM ledger WHERE account = 3 AND chain_seq = 5;
-- account 4: the last two rows deleted
DELETE FROM ledger WHERE account = 4 AND chain_seq > 8;
-- account 5: two rows swap their chain_seq
UPDATE ledger SET chain_seq = CASE chain_seq WHEN 6 THEN 7 ELSE 6 END
 WHERE account = 5 AND chain_seq IN (6, 7);
-- account 6: a row inserted with the trigger disabled
INSERT INTO ledger (account, amount, memo, booked_at) VALUES (6, 1000000, 'forged', '2026-12-30 00:00+00');
-- account 7: a copy of a row, with its chain_seq and hashes
INSERT INTO ledger (account, amount, memo, booked_at, chain_seq, prev_hash, row_hash)
SELECT account, amount, memo, booked_at, chain_seq, prev_hash, row_hash FROM ledger WHERE account = 7 AND chain_seq = 3;
-- account 8: a row whose prev_hash was rewritten
UPDATE ledger SET prev_hash = sha256('x') WHERE account = 8 AND chain_seq = 4;
-- account 1: the last row given a forged chain_seq
UPDATE ledger SET chain_seq = 100 WHERE account = 1 AND chain_seq = 10;
RESET session_replication_role;
SELECT pg_temp.protect('ledger');

SELECT chain_key, chain_seq, problem FROM wallet_ops.verify_chain('ledger');
-- the details carry the hashes, like amcheck
SELECT chain_key, chain_seq, problem,
       detail ~ '^stored row_hash [0-9a-f]{64}, computed [0-9a-f]{64}$' AS detail_ok
  FROM wallet_ops.verify_chain('ledger') WHERE problem = 'hash_mismatch' AND chain_key = '2';
SELECT detail FROM wallet_ops.verify_chain('ledger') WHERE chain_key = '3';
SELECT detail ~ '^the recorded head is chain_seq 10 with hash [0-9a-f]{64}, but the chain ends at chain_seq 8 with row_hash [0-9a-f]{64}$' AS head_detail_ok
  FROM wallet_ops.verify_chain('ledger') WHERE chain_key = '4';
-- one chain at a time
SELECT chain_key, chain_seq, problem FROM wallet_ops.verify_chain('ledger', '5');
SELECT chain_key, chain_seq, problem FROM wallet_ops.verify_chain('ledger', '1');
-- the digest also reports chains that no longer extend what it attested
SELECT chain_key, chain_seq, problem FROM wallet_ops.verify_against_digest('ledger', (SELECT d FROM anchor))
EXCEPT
SELECT chain_key, chain_seq, problem FROM wallet_ops.verify_chain('ledger')
ORDER BY 1, 2;

-- A chain rewritten consistently (tail replaced and head fixed up, so that
-- verify_chain has nothing to say) still disagrees with the digest.
CREATE TABLE ledger2 (account int NOT NULL, amount numeric NOT NULL);
SELECT wallet_ops.enable_hash_chain('ledger2', '{account}');
INSERT INTO ledger2 SELECT 1 + n % 3, n FROM generate_series(1, 12) n;
CREATE TABLE anchor2 AS SELECT wallet_ops.chain_digest('ledger2') AS d;
SELECT pg_temp.unprotect('ledger2');
SET session_replication_role = replica;
DELETE FROM ledger2 WHERE account = 1 AND chain_seq = 4;
UPDATE wallet_ops.chain_heads h SET last_seq = 3, last_hash = l.row_hash
  FROM ledger2 l WHERE h.relid = 'ledger2'::regclass AND h.chain_key = '1' AND l.account = 1 AND l.chain_seq = 3;
-- account 2: the whole chain and its head removed
DELETE FROM ledger2 WHERE account = 2;
DELETE FROM wallet_ops.chain_heads WHERE relid = 'ledger2'::regclass AND chain_key = '2';
RESET session_replication_role;
SELECT pg_temp.protect('ledger2');
INSERT INTO ledger2 VALUES (1, 999);   -- a different 4th row, properly chained
SELECT * FROM wallet_ops.verify_chain('ledger2');
SELECT chain_key, chain_seq, problem FROM wallet_ops.verify_against_digest('ledger2', (SELECT d FROM anchor2));
SELECT detail FROM wallet_ops.verify_against_digest('ledger2', (SELECT d FROM anchor2)) WHERE chain_key = '1';
-- a digest that was edited no longer matches its own Merkle root
SELECT chain_key, chain_seq, problem
  FROM wallet_ops.verify_against_digest('ledger2',
         jsonb_set((SELECT d FROM anchor2), '{chains,2,last_seq}', '2'))
 WHERE chain_key IS NULL OR chain_key = '0';
-- a digest of another format is refused
SELECT err($$SELECT * FROM wallet_ops.verify_against_digest('ledger_t.ledger2', '{"format": "x"}')$$);
SELECT err($$SELECT * FROM wallet_ops.verify_against_digest('ledger_t.ledger2',
  jsonb_set((SELECT d FROM ledger_t.anchor2), '{merkle_root}', '"zz"'))$$);
-- the Merkle root of a fresh digest is stable and recomputable
SELECT (SELECT d->>'merkle_root' FROM anchor2) <> wallet_ops.chain_digest('ledger2')->>'merkle_root' AS root_changed;

-- rows with a null chain key (only possible around the trigger)
SET session_replication_role = replica;
ALTER TABLE ledger2 ALTER COLUMN account DROP NOT NULL;
INSERT INTO ledger2 VALUES (NULL, 5);
RESET session_replication_role;
SELECT chain_key, chain_seq, problem, detail ~ '^a row with a null chain key is in partition "ledger2" at ctid' AS detail_ok
  FROM wallet_ops.verify_chain('ledger2');

-- verify_chain is read-only: it runs in a read-only transaction (as on a
-- hot standby), and needs SELECT on the table
BEGIN TRANSACTION READ ONLY;
SELECT count(*) AS problems FROM wallet_ops.verify_chain('ledger');
SELECT (wallet_ops.chain_digest('ledger')->>'chain_count') AS chains;
COMMIT;
SET ROLE ledger_stranger;
SELECT err($$SELECT * FROM wallet_ops.verify_chain('ledger_t.ledger')$$);
RESET ROLE;

-- rows stored out of chain order are verified in the first pass as long as
-- they form few runs of consecutive rows (here: rewritten in reverse by
-- CLUSTER, and two blocks swapped); a thorough shuffle sends the chain to
-- the ordered second pass, with the same result
CREATE TABLE shuffled (acct int NOT NULL, v int NOT NULL);
SELECT wallet_ops.enable_hash_chain('shuffled', '{acct}');
INSERT INTO shuffled SELECT 1 + n % 2, n FROM generate_series(1, 300) n;
CREATE INDEX shuffled_rev ON shuffled (acct, chain_seq DESC);
CLUSTER shuffled USING shuffled_rev;
SELECT (SELECT chain_seq FROM shuffled WHERE acct = 1 LIMIT 1) AS first_stored_seq;
SET client_min_messages = debug1;   -- says how many chains needed the second pass
SELECT * FROM wallet_ops.verify_chain('shuffled');
RESET client_min_messages;
CREATE TABLE jiggled (acct int NOT NULL, v int NOT NULL);
SELECT wallet_ops.enable_hash_chain('jiggled', '{acct}');
INSERT INTO jiggled SELECT 1, n FROM generate_series(1, 100) n;
-- swap the physical places of rows 10..19 and 20..29 through a rewrite
CREATE INDEX jiggled_mixed ON jiggled ((CASE WHEN chain_seq BETWEEN 10 AND 29 THEN chain_seq % 20 + 10 ELSE chain_seq END));
CLUSTER jiggled USING jiggled_mixed;
SELECT array_agg(chain_seq) FILTER (WHERE n BETWEEN 9 AND 12) AS stored_order
  FROM (SELECT chain_seq, row_number() OVER () AS n FROM jiggled) s;
SET client_min_messages = debug1;   -- says how many chains needed the second pass
SELECT * FROM wallet_ops.verify_chain('jiggled');
RESET client_min_messages;
CREATE TABLE scrambled (acct int NOT NULL, v int NOT NULL);
SELECT wallet_ops.enable_hash_chain('scrambled', '{acct}');
INSERT INTO scrambled SELECT 1, n FROM generate_series(1, 2000) n;
CREATE INDEX scrambled_md5 ON scrambled (md5(chain_seq::text));
CLUSTER scrambled USING scrambled_md5;
SET client_min_messages = debug1;
SELECT * FROM wallet_ops.verify_chain('scrambled');
RESET client_min_messages;
SELECT pg_temp.unprotect('scrambled', 'shuffled', 'jiggled');
SET session_replication_role = replica;
UPDATE scrambled SET v = -v WHERE chain_seq = 1000;
UPDATE shuffled SET v = -v WHERE acct = 2 AND chain_seq = 77;
UPDATE jiggled SET v = -v WHERE chain_seq = 25;
RESET session_replication_role;
SELECT pg_temp.protect('scrambled', 'shuffled', 'jiggled');
SELECT chain_key, chain_seq, problem FROM wallet_ops.verify_chain('shuffled');
SELECT chain_key, chain_seq, problem FROM wallet_ops.verify_chain('jiggled');
SELECT chain_key, chain_seq, problem FROM wallet_ops.verify_chain('scrambled');

-- a head whose last_hash is not a SHA-256 stops inserts into its chain
-- (XX001) and lets nothing through; other chains go on
UPDATE wallet_ops.chain_heads SET last_hash = '\x0102'
 WHERE relid = 'ledger2'::regclass AND chain_key = '3';
SELECT err($$INSERT INTO ledger_t.ledger2 VALUES (3, 1)$$);
SELECT count(*) AS rows_of_chain_3 FROM ledger2 WHERE account = 3;
SELECT err($$INSERT INTO ledger_t.ledger2 VALUES (1, 1)$$);
