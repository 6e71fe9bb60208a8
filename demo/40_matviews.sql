-- Materialised views kept fresh (runbook 9.6: "mv_effective_access returns
-- stale data after a data ingestion").  wallet_ops watches the tables the
-- view reads and refreshes it within one naptime (2 s in this demo) of a
-- committed change, and never when nothing changed.

-- 1. Manage the view.  Its sources are found from its definition.
SELECT wallet_ops.manage_matview('mv_effective_access');
SELECT wallet_ops.matview_sources('mv_effective_access');
SELECT cardinality(s) AS n_sources, array_to_string(s, ', ') AS sources
  FROM wallet_ops.matview_sources('mv_effective_access') s \gset

-- Every table it reads now carries a watcher trigger (statement level,
-- enabled always; a row-level one enabled for logical replication apply).
SELECT tgrelid::regclass AS watched_table, tgname, tgenabled
  FROM pg_trigger WHERE tgname LIKE 'wallet_ops_matview%' ORDER BY tgrelid::regclass::text, tgname;

-- 2. Wait for the worker's first refresh (its freshness was unknown).
DO $$
BEGIN
  FOR i IN 1..100 LOOP
    EXIT WHEN (SELECT refreshes FROM wallet_ops.matview_state
                WHERE mv = 'mv_effective_access'::regclass) >= 1;
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
SELECT mv, refresh_mode, last_result, stale, refreshes
  FROM wallet_ops.matview_freshness;
SELECT upper(refresh_mode) AS mode FROM wallet_ops.matview_freshness WHERE mv = 'mv_effective_access'::regclass \gset
\echo 'matview:     mv_effective_access managed, refreshed' :mode 'by the worker;' :n_sources 'sources watched:' :sources

-- 3. An ingest: a new grant to a group.  Nobody runs REFRESH by hand.
INSERT INTO access_grants (principal_id, resource, permission)
VALUES ('10000000-0000-4000-8000-000000000001', 'wallet:demo', 'read');
SELECT clock_timestamp() AS t0 \gset
SELECT mv, stale, staleness > interval '0' AS waiting FROM wallet_ops.matview_freshness;

DO $$
DECLARE
  t0 timestamptz := clock_timestamp();
BEGIN
  FOR i IN 1..100 LOOP
    EXIT WHEN EXISTS (SELECT 1 FROM mv_effective_access WHERE resource = 'wallet:demo');
    PERFORM pg_sleep(0.1);
  END LOOP;
  RAISE NOTICE 'the view showed the new grant % s after the commit',
    round(extract(epoch FROM clock_timestamp() - t0)::numeric, 1);
END $$;
SELECT count(*) AS identities_with_new_grant
  FROM mv_effective_access WHERE resource = 'wallet:demo';
SELECT count(*) AS n_new, round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 1) AS fresh_s
  FROM mv_effective_access WHERE resource = 'wallet:demo' \gset
\echo 'fresh:       an ingest committed: the view showed it' :fresh_s 's later, to' :n_new 'identities; no REFRESH by hand'

-- CONCURRENTLY: the view has a unique index on plain columns, so readers
-- never waited.  The freshness figures:
SELECT mv, refresh_mode, last_change, last_refresh, last_duration, stale, refreshes
  FROM wallet_ops.matview_freshness;

-- 4. A rolled-back ingest leaves no mark: nothing becomes due.
BEGIN;
INSERT INTO access_grants (principal_id, resource, permission)
VALUES ('10000000-0000-4000-8000-000000000002', 'wallet:never', 'read');
ROLLBACK;
SELECT * FROM wallet_ops._matviews_due();
SELECT count(*) AS n_due FROM wallet_ops._matviews_due() \gset
\echo '             a rolled-back ingest:' :n_due 'views due for a refresh'

-- 5. Refresh now, by hand (the runbook's step, recorded like the worker's).
SELECT wallet_ops.refresh_matview('mv_effective_access');
SELECT started_at::time(0) AS at, object, action, outcome, detail
  FROM wallet_ops.job_log WHERE kind = 'matview' ORDER BY job_id;

-- 6. Bad input gets a clear error with its own SQLSTATE.
\set ON_ERROR_STOP 0
SELECT wallet_ops.manage_matview('access_grants');
\set bad :SQLSTATE
SELECT wallet_ops.manage_matview('mv_effective_access');
\set bad :bad', ':SQLSTATE
\set ON_ERROR_STOP 1
\echo 'refused:     a table as a view, a view managed twice: SQLSTATE' :bad
