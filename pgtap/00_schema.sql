-- pgTAP: the objects every part of wallet_ops relies on.
BEGIN;
SELECT plan(4);
CREATE EXTENSION IF NOT EXISTS wallet_ops;
SELECT has_schema('wallet_ops');
SELECT has_table('wallet_ops', 'job_log', 'job_log exists');
SELECT col_not_null('wallet_ops', 'job_log', 'outcome', 'job_log.outcome is required');
SELECT throws_ok(
  $$INSERT INTO wallet_ops.job_log (started_at, object, kind, action, outcome) VALUES (now(), 'x', 'y', 'z', 'bogus')$$,
  '23514', NULL, 'job_log rejects an unknown outcome');
SELECT * FROM finish();
ROLLBACK;
