-- Hash-chained ledger: every entity's history in entity_history becomes a
-- hash chain.  Each row carries chain_seq, prev_hash (the previous row's
-- hash) and row_hash (SHA-256 over the row's values, docs/hash-format.md).

SELECT (SELECT count(*) FROM entity_history) AS seed_events,
       (SELECT count(DISTINCT entity_id) FROM entity_history) AS seed_entities,
       (SELECT count(*) FROM audit_log) AS seed_audit \gset
\echo 'seed:        entity_history:' :seed_events 'events of' :seed_entities 'entities; audit_log:' :seed_audit 'rows'

-- Chain the table, one chain per entity.  The 2000 rows already there are
-- sealed into chains (per entity, in history_id order).
SELECT wallet_ops.enable_hash_chain('entity_history', '{entity_id}');
SELECT relid, chain_key, hashed_columns FROM wallet_ops.hash_chains;
SELECT count(*) AS chains, sum(last_seq) AS rows_chained
  FROM wallet_ops.chain_heads WHERE relid = 'entity_history'::regclass \gset
\echo 'ledger:      entity_history hash-chained:' :rows_chained 'rows sealed in' :chains 'chains (one per entity)'

-- New events are chained by the insert trigger.
INSERT INTO entity_history (entity_id, entity_type, change_type, payload, changed_by, changed_at)
VALUES ('00000000-0000-4000-8000-000000000007', 'wallet', 'update',
        '{"balance": 120, "currency": "EUR", "note": "Überweisung ✓ demo"}', 'demo', '2026-06-15 12:00+00')
RETURNING entity_id, chain_seq, left(encode(prev_hash, 'hex'), 16) AS prev_hash, left(encode(row_hash, 'hex'), 16) AS row_hash;

-- An intact table: verify_chain returns no rows.
SELECT * FROM wallet_ops.verify_chain('entity_history');
SELECT clock_timestamp() AS t0 \gset
SELECT CASE count(*) WHEN 0 THEN 'intact' ELSE count(*) || ' problems' END AS verdict,
       round(1000 * extract(epoch FROM clock_timestamp() - :'t0'::timestamptz), 1) AS verify_ms
  FROM wallet_ops.verify_chain('entity_history') \gset
SELECT count(*) AS rows_now FROM entity_history \gset
\echo 'verify:      verify_chain:' :rows_now 'rows' :verdict', checked in' :verify_ms 'ms'

-- A digest to keep outside the database (here only its summary is shown).
CREATE TEMP TABLE demo_digest AS SELECT wallet_ops.chain_digest('entity_history') AS d;
SELECT d->>'format' AS format, d->>'table' AS "table", d->'chain_count' AS chains,
       d->'row_count' AS rows, d->>'merkle_root' AS merkle_root
  FROM demo_digest;
SELECT d->'chain_count' AS d_chains, left(d->>'merkle_root', 16) AS d_root FROM demo_digest \gset
\echo 'digest:      taken to keep outside the database:' :d_chains 'chain heads, merkle root' :d_root'...'

-- A hash-chained table is append-only: even the owner cannot edit a row.
\set ON_ERROR_STOP 0
UPDATE entity_history SET payload = '{}' WHERE chain_seq = 3;
\set update_state :SQLSTATE
\set ON_ERROR_STOP 1
\echo 'refused:     UPDATE of a chained row, even by its owner: SQLSTATE' :update_state

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
SELECT problem AS t_problem, chain_key AS t_chain, chain_seq AS t_seq
  FROM wallet_ops.verify_chain('entity_history') ORDER BY chain_key, chain_seq LIMIT 1 \gset
\echo 'tamper:      a balance edited around the trigger: verify_chain finds' :t_problem 'at chain' :t_chain 'seq' :t_seq
SELECT count(*) AS d_problems
  FROM wallet_ops.verify_against_digest('entity_history', (SELECT d FROM demo_digest)) \gset
-- and so does the outside verifier, which trusts no hash the server computes
\set outside `out=$(:verify_cmd -q -h :'host' -p :'port' -d wallet_demo entity_history 2>&1); echo "exit $?, $(printf '%s' "$out" | head -n 1 | cut -d ' ' -f 1-5)"`
\echo '             against the digest:' :d_problems 'problem; wallet_ops_verify (outside):' :outside

-- Repair: put the original value back; the chain verifies again.
SET session_replication_role = replica;
UPDATE entity_history e SET payload = o.payload
  FROM demo_original o WHERE e.history_id = o.history_id
   AND e.entity_id = '00000000-0000-4000-8000-000000000042';
RESET session_replication_role;
SELECT wallet_ops.enforce_append_only('entity_history');
SELECT count(*) AS r_problems FROM wallet_ops.verify_chain('entity_history') \gset
SELECT count(*) AS r_d_problems FROM wallet_ops.verify_against_digest('entity_history', (SELECT d FROM demo_digest)) \gset
\echo 'repaired:    the original value put back:' :r_problems 'problems, against the digest' :r_d_problems
