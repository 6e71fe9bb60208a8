-- Proofs for one chain (docs/hash-format.md, "Proof for one chain"):
-- wallet_ops.chain_proof(tbl, chain_key, digest).  The proof of the
-- signed vector digest is checked against the reference in chain_vectors;
-- wallet_ops_verify prove and 10,000 chains in t/019.
CREATE EXTENSION IF NOT EXISTS wallet_ops;
SET client_min_messages = notice;
CREATE TABLE proof_t (acct int, amount numeric, memo text);
SELECT wallet_ops.enable_hash_chain('proof_t', '{acct}');
INSERT INTO proof_t VALUES (1, 12.50, 'café'), (1, NULL, ''), (2, 1, 'x'), (3, 2, 'y');
CREATE TEMP TABLE d AS SELECT wallet_ops.chain_digest('proof_t') AS d;
-- the tv vectors: chain "3" is carried up one level, chain "1" has two
-- siblings on the right; the digest's own members, without its chains
SELECT c.k, p->'chain'->'last_seq' AS last_seq, left(p->'chain'->>'head_hash', 8) AS head,
       p->'leaf_index' AS leaf_index,
       (SELECT string_agg((s->>'side') || ' ' || (s->>'hash'), E'\n' ORDER BY n)
          FROM jsonb_array_elements(p->'path') WITH ORDINALITY e(s, n)) AS path
  FROM d, LATERAL (VALUES ('1'), ('2'), ('3')) c(k),
       LATERAL wallet_ops.chain_proof('proof_t', c.k, d) p ORDER BY c.k;
SELECT p->>'format' AS format, p->'digest' = d - 'chains' AS digest_without_chains,
       p->'digest'->>'merkle_root' = 'bb6f80249b928037b20e493df362a37b09b24afb8ef52ae3eb69e5b39021405f' AS root_matches
  FROM d, wallet_ops.chain_proof('proof_t', '3', d) p;
-- a table of one chain: the root is the leaf, the path is empty
CREATE TABLE proof_one (memo text);
SELECT wallet_ops.enable_hash_chain('proof_one');
INSERT INTO proof_one VALUES ('a');
SELECT p->'chain'->'chain_key' AS chain_key, p->'leaf_index' AS leaf_index, p->'path' AS path
  FROM wallet_ops.chain_proof('proof_one', '', wallet_ops.chain_digest('proof_one')) p;
-- path lengths: ceil(log2 n) at most, shorter where a node is carried up
CREATE TABLE proof_many (acct int, memo text);
SELECT wallet_ops.enable_hash_chain('proof_many', '{acct}');
INSERT INTO proof_many SELECT g, 'm' FROM generate_series(1, 37) g;
SELECT min(jsonb_array_length(p->'path')) AS shortest, max(jsonb_array_length(p->'path')) AS longest,
       count(DISTINCT p->>'leaf_index') AS leaves
  FROM (SELECT wallet_ops.chain_digest('proof_many') AS d) x,
       generate_series(1, 37) g, LATERAL wallet_ops.chain_proof('proof_many', g::text, x.d) p;
-- refused: a chain the digest does not list, another table's digest, an
-- edited digest (merkle_root, a chain, chain_count), a malformed one, nulls,
-- a table that is not hash-chained, a table the caller may not read
\set VERBOSITY default
SELECT wallet_ops.chain_proof('proof_t', '4', d) FROM d;
SELECT wallet_ops.chain_proof('proof_many', '1', d) FROM d;
SELECT wallet_ops.chain_proof('proof_t', '1', jsonb_set(d, '{merkle_root}', to_jsonb(repeat('0', 64)))) FROM d;
SELECT wallet_ops.chain_proof('proof_t', '1', jsonb_set(d, '{chains,2,last_seq}', '2')) FROM d;
SELECT wallet_ops.chain_proof('proof_t', '1', jsonb_set(d, '{chain_count}', '4')) FROM d;
SELECT wallet_ops.chain_proof('proof_t', '1', d - 'merkle_root') FROM d;
SELECT wallet_ops.chain_proof('proof_t', '1', '"x"');
SELECT wallet_ops.chain_proof('proof_t', NULL, d) FROM d;
SELECT wallet_ops.chain_proof(NULL, '1', d) FROM d;
CREATE TABLE proof_plain (a int);
SELECT wallet_ops.chain_proof('proof_plain', '1', d) FROM d;
CREATE ROLE proof_stranger;
GRANT SELECT ON d TO proof_stranger;
SET ROLE proof_stranger;
SELECT wallet_ops.chain_proof('proof_t', '1', d) FROM d;
RESET ROLE;
-- a signed digest: a signature by a key nobody trusts is refused with its
-- SQLSTATE (WO002); a signature that does not hold with WO001
\set VERBOSITY sqlstate
SELECT wallet_ops.chain_proof('proof_t', '1', d || jsonb_build_object('signature', jsonb_build_object('algorithm', 'ed25519', 'key_id', repeat('ab', 32), 'value', repeat('0', 128)))) FROM d;
SELECT wallet_ops.chain_proof('proof_t', '1', (d - 'row_count') || jsonb_build_object('signature', jsonb_build_object('algorithm', 'ed25519', 'key_id', repeat('ab', 32), 'value', repeat('0', 128)))) FROM d;
\set VERBOSITY default
DROP TABLE d;
DROP ROLE proof_stranger;
