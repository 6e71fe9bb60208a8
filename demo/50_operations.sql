-- Operations (docs/operations.md): what on-call engineers look at and what
-- they run.  status, health() and metrics() on the seed's tables; the
-- nightly integrity audit of entity_history; verified replay for disaster
-- recovery.

-- Set up once: partitions ahead of time for both logs (the seed made 2026
-- by hand; those partitions are adopted), and a daily audit of the ledger.
SELECT count(*) AS partition_actions FROM wallet_ops.manage_partitions('entity_history', 'month')
 WHERE NOT EXISTS (SELECT 1 FROM wallet_ops.partition_config WHERE relid = 'entity_history'::regclass);
SELECT count(*) AS partition_actions FROM wallet_ops.manage_partitions('audit_log', 'quarter', premake => 2)
 WHERE NOT EXISTS (SELECT 1 FROM wallet_ops.partition_config WHERE relid = 'audit_log'::regclass);
SELECT wallet_ops.schedule_verification('entity_history', '1 day', full_every => '7 days');

-- One maintenance pass now (the worker does the same every tick): the first
-- verification is full, and its digest becomes the anchor of the next ones.
SELECT object, action, detail FROM wallet_ops.run_maintenance()
 WHERE action IN ('verified', 'problems', 'created', 'error');
SELECT detail AS first_audit FROM wallet_ops.job_log
 WHERE object = 'public.entity_history' AND kind = 'hash_chain' ORDER BY job_id DESC LIMIT 1 \gset

-- What operators look at: one row per managed object, its headline figure.
SELECT object, kind, last_result, headline FROM wallet_ops.status;

-- The health endpoint, for machines: health() is JSON; its overall status.
SELECT wallet_ops.health()->>'status' AS health;
SELECT wallet_ops.health()->>'status' AS health, (SELECT count(*) FROM wallet_ops.status) AS n_status,
       (SELECT count(*) FROM wallet_ops.health_checks) AS n_checks \gset
\echo 'audit:       nightly verification scheduled; the first:' :first_audit
\echo 'health:     ' :health 'over' :n_checks 'checks;' :n_status 'managed objects in wallet_ops.status'
-- The same checks for people, the worst first: those not ok, and the worker.
SELECT * FROM wallet_ops.health_checks WHERE status <> 'ok' OR check_name = 'worker';

-- The same figures for Prometheus (an excerpt).
SELECT line AS metrics FROM regexp_split_to_table(wallet_ops.metrics(), E'\n') line
 WHERE line ~ '^(# TYPE )?wallet_ops_(health_status|worker_running|partition_runway_periods|default_partition_rows|chain_problems)';

-- A day of new events; the nightly audit reads only them (incremental).
INSERT INTO entity_history (entity_id, entity_type, change_type, payload, changed_by, changed_at)
SELECT ('00000000-0000-4000-8000-0000000000' || lpad((n % 50)::text, 2, '0'))::uuid, 'wallet', 'update',
       jsonb_build_object('balance', 1000 + n, 'currency', 'EUR'), 'demo', now()
  FROM generate_series(1, 20) n;
SELECT count(*) AS problems FROM wallet_ops.run_verification('entity_history');
SELECT action, outcome, detail FROM wallet_ops.job_log
 WHERE object = 'public.entity_history' AND kind = 'hash_chain' ORDER BY job_id DESC LIMIT 1;
SELECT detail AS next_audit FROM wallet_ops.job_log
 WHERE object = 'public.entity_history' AND kind = 'hash_chain' ORDER BY job_id DESC LIMIT 1 \gset
\echo '             20 new events; the next:' :next_audit

-- Disaster recovery: each entity's last state at a time, after every chain
-- verified.  row_data rebuilds the row with jsonb_populate_record.
SELECT count(*) AS entities FROM wallet_ops.replay('entity_history') \gset
\echo 'replay:      the last state of' :entities 'entities rebuilt from verified chains'
SELECT h.entity_id, h.chain_seq, h.change_type, h.payload
  FROM wallet_ops.replay('entity_history', as_of => '2026-06-30 00:00+00') r,
       jsonb_populate_record(NULL::entity_history, r.row_data) h
 ORDER BY h.entity_id LIMIT 3;

-- A superuser lifts the append-only protection and changes a row around
-- the trigger: replay refuses, naming the chain.
CREATE TEMP TABLE demo_ops_original AS
  SELECT history_id, payload FROM entity_history
   WHERE entity_id = '00000000-0000-4000-8000-000000000007' AND chain_seq = 2;
SELECT wallet_ops.release_append_only('entity_history');
SET session_replication_role = replica;
UPDATE entity_history SET payload = jsonb_set(payload, '{balance}', '0')
 WHERE entity_id = '00000000-0000-4000-8000-000000000007' AND chain_seq = 2;
RESET session_replication_role;
\set ON_ERROR_STOP 0
SELECT count(*) AS entities FROM wallet_ops.replay('entity_history');
\set replay_state :SQLSTATE
\set ON_ERROR_STOP 1
-- A full verification records the problem: health() turns critical.
SELECT chain_key, chain_seq, problem FROM wallet_ops.run_verification('entity_history', incremental => false) \gset
SELECT wallet_ops.health()->>'status' AS health \gset
\echo 'tamper:      replay refused: SQLSTATE' :replay_state'; the audit finds' :problem 'at chain' :chain_key 'seq' :chain_seq'; health' :health

-- Repair from the original value; a clean full verification clears it.
SET session_replication_role = replica;
UPDATE entity_history e SET payload = o.payload
  FROM demo_ops_original o WHERE e.history_id = o.history_id
   AND e.entity_id = '00000000-0000-4000-8000-000000000007';
RESET session_replication_role;
SELECT wallet_ops.enforce_append_only('entity_history');
SELECT count(*) AS problems FROM wallet_ops.run_verification('entity_history', incremental => false) \gset
SELECT wallet_ops.health()->>'status' AS health \gset
\echo 'repaired:    a full verification finds' :problems 'problems; health' :health
