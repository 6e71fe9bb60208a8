-- Append-only audit_log (CONTRACT section 2, docs/append-only.md).
-- The seed's rule: INSERT only; UPDATE, DELETE and TRUNCATE denied.
-- enforce_append_only() puts two guard triggers (ENABLE ALWAYS) on the
-- table and on every partition, present and future; event triggers refuse
-- the DDL that would disarm them.  Inserts pay nothing: no INSERT trigger.
SELECT wallet_ops.enforce_append_only('audit_log');

SELECT tgrelid::regclass AS table_name, tgname AS trigger, tgenabled AS enabled
  FROM pg_trigger
 WHERE tgname LIKE 'wallet\_ops\_append\_only\_%'
 ORDER BY 1, 2;

-- Every change to existing rows is refused (SQLSTATE 42501), whoever
-- asks, even the table owner and even with session_replication_role =
-- replica.  These statements fail on purpose:
\set ON_ERROR_STOP 0
UPDATE audit_log SET actor = 'mallory' WHERE audit_id = 1;
\set refused :SQLSTATE
DELETE FROM audit_log_2026_q1 WHERE audit_id < 10;
\set refused :refused' ':SQLSTATE
TRUNCATE audit_log;
\set refused :refused' ':SQLSTATE
TRUNCATE audit_log_2026_q2;
\set refused :refused' ':SQLSTATE
ALTER TABLE audit_log DISABLE TRIGGER wallet_ops_append_only_row;
\set refused :refused' ':SQLSTATE
ALTER TABLE audit_log DETACH PARTITION audit_log_2026_q1;
\set refused :refused' ':SQLSTATE
DROP TABLE audit_log_2026_q1;
\set refused :refused' ':SQLSTATE
\set ON_ERROR_STOP 1
SELECT count(*) FILTER (WHERE s <> '00000') AS n_refused, count(*) AS n_tried,
       string_agg(DISTINCT s, ', ') AS states
  FROM regexp_split_to_table(:'refused', ' ') s \gset
\echo 'append-only: audit_log:' :n_refused 'of' :n_tried 'changes refused (UPDATE, DELETE, TRUNCATE, DISABLE TRIGGER, DETACH, DROP): SQLSTATE' :states

-- Inserting is allowed, and nothing was lost above.
INSERT INTO audit_log (occurred_at, actor, action, target_type, target_id)
VALUES ('2026-06-15 12:00+00', 'demo', 'wallet.freeze', 'wallet', '42');
SELECT count(*) AS audit_rows FROM audit_log \gset
\echo '             INSERT still works:' :audit_rows 'rows, none lost'

-- The ingest role of the seed (made by 01_seed_schema.sql): INSERT (and
-- the identity sequence) on the table and its partitions, present and
-- future; nothing else.
SELECT wallet_ops.grant_ingest('audit_log', 'wallet_ingest');
SET ROLE wallet_ingest;
INSERT INTO audit_log (occurred_at, actor, action) VALUES ('2026-06-15 12:01+00', 'ingest', 'wallet.update');
\set ON_ERROR_STOP 0
DELETE FROM audit_log;
\set ingest_delete :SQLSTATE
\set ON_ERROR_STOP 1
RESET ROLE;
\echo 'ingest:      wallet_ingest may INSERT; its DELETE is refused: SQLSTATE' :ingest_delete

-- A partition made later is protected and granted at once (rolled back
-- here so as not to disturb partition management).
BEGIN;
CREATE TABLE audit_log_2031_q1 PARTITION OF audit_log
    FOR VALUES FROM ('2031-01-01 00:00+00') TO ('2031-04-01 00:00+00');
SELECT tgname, tgenabled,
       has_table_privilege('wallet_ingest', 'audit_log_2031_q1', 'INSERT') AS ingest_can_insert
  FROM pg_trigger WHERE tgrelid = 'audit_log_2031_q1'::regclass ORDER BY 1;
SELECT count(*) AS new_guards,
       CASE WHEN has_table_privilege('wallet_ingest', 'audit_log_2031_q1', 'INSERT') THEN 'granted' ELSE 'NOT granted' END AS new_grant
  FROM pg_trigger WHERE tgrelid = 'audit_log_2031_q1'::regclass AND tgname LIKE 'wallet\_ops\_append\_only\_%' \gset
ROLLBACK;
\echo '             a partition made later: protected at once by' :new_guards 'guard triggers, INSERT' :new_grant 'to wallet_ingest'

-- The protected set, kept by pg_dump, and the ingest grants.
SELECT relid, protected_by FROM wallet_ops.append_only_tables;
SELECT relid, role_name FROM wallet_ops.ingest_grants;
