-- Hash-chained ledger: every entity's history in entity_history becomes a
-- hash chain.  Each row carries chain_seq, prev_hash (the previous row's
-- hash) and row_hash (SHA-256 over the row's values, docs/hash-format.md).

-- Chain the table, one chain per entity.  The 2000 rows already there are
-- sealed into chains (per entity, in history_id order).
SELECT wallet_ops.enable_hash_chain('entity_history', '{entity_id}');
SELECT relid, chain_key, hashed_columns FROM wallet_ops.hash_chains;
SELECT count(*) AS chains, sum(last_seq) AS rows_chained
  FROM wallet_ops.chain_heads WHERE relid = 'entity_history'::regclass;

-- New events are chained by the insert trigger.
INSERT INTO entity_history (entity_id, entity_type, change_type, payload, changed_by, changed_at)
VALUES ('00000000-0000-4000-8000-000000000007', 'wallet', 'update',
        '{"balance": 120, "currency": "EUR", "note": "Überweisung ✓ demo"}', 'demo', '2026-06-15 12:00+00')
RETURNING entity_id, chain_seq, left(encode(prev_hash, 'hex'), 16) AS prev_hash, left(encode(row_hash, 'hex'), 16) AS row_hash;

-- An intact table: verify_chain returns no rows.
SELECT * FROM wallet_ops.verify_chain('entity_history');

-- A digest to keep outside the database (here only its summary is shown).
CREATE TEMP TABLE demo_digest AS SELECT wallet_ops.chain_digest('entity_history') AS d;
SELECT d->>'format' AS format, d->>'table' AS "table", d->'chain_count' AS chains,
       d->'row_count' AS rows, d->>'merkle_root' AS merkle_root
  FROM demo_digest;

-- A hash-chained table is append-only: even the owner cannot edit a row.
\set ON_ERROR_STOP 0
UPDATE entity_history SET payload = '{}' WHERE chain_seq = 3;
\set ON_ERROR_STOP 1

-- A superuser can lift the protection (the server log says so at WARNING)
-- and edit one balance around the trigger...
CREATE TEMP TABLE demo_original AS
  SELECT history_id, payload FROM entity_history
   WHERE entity_id = '00000000-0000-4000-8000-000000000042' AND chain_seq = 3;
SELECT wallet_ops.release_append_only('entity_history');
SET session_replication_role = replica;
UPDATE entity_history SET payload = jsonb_set(payload, '{balance}', '999999')
 WHERE entity_id = '00000000-0000-4000-8000-000000000042' AND chain_seq = 3;
RESET session_replication_role;

-- ...and both checks point at that row.
SELECT chain_key, chain_seq, problem, left(detail, 60) AS detail
  FROM wallet_ops.verify_chain('entity_history');
SELECT chain_key, chain_seq, problem
  FROM wallet_ops.verify_against_digest('entity_history', (SELECT d FROM demo_digest));

-- Repair: put the original value back; the chain verifies again.
SET session_replication_role = replica;
UPDATE entity_history e SET payload = o.payload
  FROM demo_original o WHERE e.history_id = o.history_id
   AND e.entity_id = '00000000-0000-4000-8000-000000000042';
RESET session_replication_role;
SELECT wallet_ops.enforce_append_only('entity_history');
SELECT count(*) AS problems FROM wallet_ops.verify_chain('entity_history');
SELECT count(*) AS problems FROM wallet_ops.verify_against_digest('entity_history', (SELECT d FROM demo_digest));
