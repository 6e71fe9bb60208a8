-- pgTAP: wallet_ops.status, health() and metrics() in each state, every
-- state provoked for real: partitions dropped by hand, a row in the default
-- partition, the default partition gone (an INSERT fails), a source table
-- changed and not refreshed, a name that needs escaping.
--
-- health() checks that the launcher runs, so it must be seen before the
-- test's own transaction begins.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS wallet_ops;
DO $$
BEGIN
  FOR i IN 1..300 LOOP
    EXIT WHEN EXISTS (SELECT 1 FROM pg_stat_activity
                       WHERE backend_type = 'wallet_ops launcher');
    PERFORM pg_sleep(0.1);
    COMMIT;
  END LOOP;
END $$;

BEGIN;
SELECT plan(56);

-- ---- the objects and who may read them ------------------------------------
SELECT has_view('wallet_ops', 'status', 'wallet_ops.status is a view');
SELECT has_function('wallet_ops', 'health', ARRAY[]::text[], 'health() exists');
SELECT has_function('wallet_ops', 'metrics', ARRAY[]::text[], 'metrics() exists');
SELECT function_returns('wallet_ops', 'health', ARRAY[]::text[], 'jsonb', 'health() returns jsonb');
SELECT is(ARRAY(SELECT attname::text FROM pg_attribute
                 WHERE attrelid = 'wallet_ops.status'::regclass AND attnum > 0 ORDER BY attnum),
          ARRAY['object', 'kind', 'last_run', 'last_result', 'last_error', 'headline',
                'runway_until', 'default_rows', 'staleness', 'last_verified'],
          'status has the documented columns');
SELECT ok(NOT has_function_privilege('public', 'wallet_ops.health()', 'EXECUTE')
          AND NOT has_function_privilege('public', 'wallet_ops.metrics()', 'EXECUTE')
          AND NOT has_table_privilege('public', 'wallet_ops.status', 'SELECT'),
          'PUBLIC may not read status, health() or metrics()');

CREATE ROLE tap_ops_monitor IN ROLE pg_monitor;
CREATE ROLE tap_ops_nobody;

-- ---- ok ---------------------------------------------------------------------
CREATE TABLE ops_ev (at timestamptz NOT NULL, v int) PARTITION BY RANGE (at);
SELECT is((SELECT count(*) FROM wallet_ops.manage_partitions('ops_ev', 'month')), 5::bigint,
          'ops_ev: default and four monthly partitions made');
CREATE TABLE ops_src (id int PRIMARY KEY, v int);
CREATE MATERIALIZED VIEW ops_mv AS SELECT id, v FROM ops_src;
CREATE UNIQUE INDEX ON ops_mv (id);
SELECT wallet_ops.manage_matview('ops_mv');
SELECT is(wallet_ops.refresh_matview('ops_mv'), 'concurrently', 'ops_mv refreshed');
CREATE TABLE ops_al (x int);
SELECT wallet_ops.enforce_append_only('ops_al');

SELECT is(wallet_ops.health()->>'status', 'ok', 'ok: health() is ok with every object in order');
SELECT is((SELECT c->>'status' FROM jsonb_array_elements(wallet_ops.health()->'checks') c
            WHERE c->>'check' = 'worker'), 'ok', 'ok: the worker check sees the running launcher');
SELECT is((SELECT count(*) FROM jsonb_array_elements(wallet_ops.health()->'checks') c
            WHERE c->>'status' <> 'ok'), 0::bigint, 'ok: no check is other than ok');
SELECT results_eq(
  $$SELECT object, kind FROM wallet_ops.status WHERE object LIKE 'public.ops\_%' ORDER BY object$$,
  $$VALUES ('public.ops_al', 'append_only'), ('public.ops_ev', 'partitions'), ('public.ops_mv', 'matview')$$,
  'status has one row per managed object, with its kind');
SELECT is((SELECT runway_until FROM wallet_ops.status WHERE object = 'public.ops_ev'),
          date_trunc('month', now(), 'UTC') + interval '4 months',
          'status: runway up to the end of the third month after this one');
SELECT is((SELECT default_rows FROM wallet_ops.status WHERE object = 'public.ops_ev'), 0::bigint,
          'status: no rows in the default partition');
SELECT is((SELECT staleness FROM wallet_ops.status WHERE object = 'public.ops_mv'), interval '0',
          'status: the refreshed view is not stale');
SELECT ok((SELECT headline FROM wallet_ops.status WHERE object = 'public.ops_mv') LIKE 'fresh, refreshed %',
          'status: the view''s headline says it is fresh');
SELECT ok(wallet_ops.metrics() ~ E'\nwallet_ops_health_status 0\n'
          AND wallet_ops.metrics() ~ E'\nwallet_ops_worker_running 1\n'
          AND wallet_ops.metrics() ~ E'\nwallet_ops_default_partition_rows\\{table="public.ops_ev"\\} 0\n',
          'ok: metrics() says healthy, worker running, default partition empty');

-- a member of pg_monitor reads all three; another role reads none
SET ROLE tap_ops_monitor;
SELECT is(wallet_ops.health()->>'status', 'ok', 'pg_monitor member calls health()');
SELECT ok((SELECT count(*) FROM wallet_ops.status) >= 3, 'pg_monitor member reads status');
SELECT ok(wallet_ops.metrics() LIKE '%wallet_ops_up 1%', 'pg_monitor member calls metrics()');
RESET ROLE;
SET ROLE tap_ops_nobody;
SELECT throws_ok('SELECT wallet_ops.health()', '42501', NULL, 'a role outside pg_monitor may not call health()');
SELECT throws_ok('SELECT * FROM wallet_ops.status', '42501', NULL, 'a role outside pg_monitor may not read status');
RESET ROLE;

-- ---- warning: a view staler than its policy ---------------------------------
INSERT INTO ops_src VALUES (1, 1);
SELECT is((SELECT c->>'status' FROM jsonb_array_elements(wallet_ops.health()->'checks') c
            WHERE c->>'check' = 'staleness' AND c->>'object' = 'public.ops_mv'),
          'ok', 'a change just made is within the view''s policy');
SELECT is((SELECT c->>'status' FROM jsonb_array_elements(wallet_ops._health_at(now() + interval '3 hours')->'checks') c
            WHERE c->>'check' = 'staleness' AND c->>'object' = 'public.ops_mv'),
          'warning', 'three hours later (naptime 1 hour) the unrefreshed view is a warning');
SELECT is(wallet_ops._health_at(now() + interval '3 hours')->>'status', 'warning',
          'stale view: health() is warning');
SELECT ok((SELECT substring(wallet_ops._metrics_at(now() + interval '3 hours')
                            FROM E'\nwallet_ops_matview_staleness_seconds\\{view="public.ops_mv"\\} ([0-9.e+]+)\n')::float8
           BETWEEN 10790 and 10810),
          'stale view: metrics() reports about 10800 seconds of staleness');
SELECT is(wallet_ops.refresh_matview('ops_mv'), 'concurrently', 'the view is refreshed');
-- (the worker check alone would warn three hours without a tick)
SELECT is((SELECT c->>'status' FROM jsonb_array_elements(wallet_ops._health_at(now() + interval '3 hours')->'checks') c
            WHERE c->>'check' = 'staleness' AND c->>'object' = 'public.ops_mv'),
          'ok', 'once refreshed, the view is within its policy again');

-- ---- warning: less than one period of runway --------------------------------
DO $$
DECLARE n int;
BEGIN
  FOR n IN 1..3 LOOP
    EXECUTE format('DROP TABLE %I', 'ops_ev_' || to_char(date_trunc('month', now(), 'UTC') + make_interval(months => n), 'YYYY_MM'));
  END LOOP;
END $$;
SELECT is((SELECT runway_until FROM wallet_ops.status WHERE object = 'public.ops_ev'),
          date_trunc('month', now(), 'UTC') + interval '1 month',
          'premake partitions dropped: status shows the runway ending with this month');
SELECT is((SELECT c->>'status' FROM jsonb_array_elements(wallet_ops.health()->'checks') c
            WHERE c->>'check' = 'runway' AND c->>'object' = 'public.ops_ev'),
          'warning', 'less than one period of runway is a warning');
SELECT is(wallet_ops.health()->>'status', 'warning', 'short runway: health() is warning');
SELECT ok((SELECT substring(wallet_ops.metrics()
                            FROM E'\nwallet_ops_partition_runway_periods\\{table="public.ops_ev"\\} ([0-9.e+-]+)\n')::float8 < 1),
          'short runway: metrics() reports less than one period');
SELECT ok(wallet_ops.metrics() ~ E'\nwallet_ops_health_status 1\n', 'short runway: wallet_ops_health_status 1');

-- ---- warning: rows in the default partition ---------------------------------
INSERT INTO ops_ev VALUES (date_trunc('month', now(), 'UTC') + interval '2 months', 1);
SELECT is((SELECT default_rows FROM wallet_ops.status WHERE object = 'public.ops_ev'), 1::bigint,
          'a row outside the partitions: status counts one row in the default partition');
SELECT is((SELECT c->>'status' FROM jsonb_array_elements(wallet_ops.health()->'checks') c
            WHERE c->>'check' = 'default_rows' AND c->>'object' = 'public.ops_ev'),
          'warning', 'rows in the default partition are a warning');
SELECT ok(wallet_ops.metrics() ~ E'\nwallet_ops_default_partition_rows\\{table="public.ops_ev"\\} 1\n',
          'metrics() reports the row in the default partition');

-- ---- critical: an INSERT can fail -------------------------------------------
DROP TABLE ops_ev_default;
SELECT throws_ok($$INSERT INTO ops_ev VALUES (date_trunc('month', now(), 'UTC') + interval '2 months', 2)$$,
                 '23514', NULL, 'without the default partition an INSERT for next month fails');
SELECT is((SELECT c->>'status' FROM jsonb_array_elements(wallet_ops.health()->'checks') c
            WHERE c->>'check' = 'runway' AND c->>'object' = 'public.ops_ev'),
          'critical', 'no default partition and a short runway: the runway check is critical');
SELECT is(wallet_ops.health()->>'status', 'critical', 'INSERT can fail: health() is critical');
SELECT is((SELECT c->>'status' FROM jsonb_array_elements(wallet_ops.health()->'checks') c LIMIT 1),
          'critical', 'health() lists the critical check first');
SELECT ok(wallet_ops.metrics() ~ E'\nwallet_ops_health_status 2\n'
          AND wallet_ops.metrics() ~ E'\nwallet_ops_partition_default_missing\\{table="public.ops_ev"\\} 1\n',
          'metrics(): wallet_ops_health_status 2 and the default partition missing');
SELECT ok((SELECT headline FROM wallet_ops.status WHERE object = 'public.ops_ev') LIKE '%no default partition%',
          'status headline says the default partition is missing');

-- ---- health_checks: the same checks, for people ----------------------------
SELECT has_view('wallet_ops', 'health_checks', 'wallet_ops.health_checks is a view');
SELECT is(ARRAY(SELECT attname::text FROM pg_attribute
                 WHERE attrelid = 'wallet_ops.health_checks'::regclass AND attnum > 0 ORDER BY attnum),
          ARRAY['check_name', 'object', 'status', 'detail'], 'health_checks has the documented columns');
SELECT ok(NOT has_table_privilege('public', 'wallet_ops.health_checks', 'SELECT'), 'PUBLIC may not read health_checks');
SELECT is((SELECT status || ' ' || check_name || ' ' || object FROM wallet_ops.health_checks LIMIT 1),
          'critical runway public.ops_ev', 'health_checks lists the critical check first');
SELECT matches((SELECT detail FROM wallet_ops.health_checks WHERE check_name = 'runway' AND object = 'public.ops_ev'),
               '^partitions up to \d{4}-\d\d-\d\d 00:00 UTC, \d+ [a-z]+( \d+ [a-z]+)? ahead \(at least 1 month is ok\); there is no default partition',
               'the runway detail says how long ahead in words');
SELECT ok(wallet_ops.metrics() ~ E'\nwallet_ops_job_failures\\{object="public.ops_mv",kind="matview"\\} 0\n'
          AND wallet_ops.metrics() ~ E'\nwallet_ops_job_failures\\{object="public.ops_ev",kind="partitions"\\} 0\n',
          'metrics(): wallet_ops_job_failures is 0 for managed objects that never failed');
SET ROLE tap_ops_monitor;
SELECT is((SELECT count(*) FROM wallet_ops.health_checks), jsonb_array_length(wallet_ops.health()->'checks')::bigint,
          'a pg_monitor member reads health_checks: one row per check of health()');
RESET ROLE;
SET ROLE tap_ops_nobody;
SELECT throws_ok('SELECT * FROM wallet_ops.health_checks', '42501', NULL, 'a role outside pg_monitor may not read health_checks');
RESET ROLE;

-- maintenance brings it back: default partition and runway are made again
SELECT ok((SELECT count(*) FROM wallet_ops.run_maintenance('ops_ev')) >= 4, 'run_maintenance() repairs ops_ev');
SELECT is((SELECT c->>'status' FROM jsonb_array_elements(wallet_ops.health()->'checks') c
            WHERE c->>'check' = 'runway' AND c->>'object' = 'public.ops_ev'),
          'ok', 'after maintenance the runway check is ok again');

-- ---- the exposition format: names that need escaping ------------------------
CREATE MATERIALIZED VIEW "we""ird\vi
ew" AS SELECT id AS x FROM ops_src;
SELECT wallet_ops.manage_matview('"we""ird\vi
ew"');
SELECT ok(position('wallet_ops_matview_staleness_seconds{view="public.\"we\"\"ird\\vi\new\""}' IN wallet_ops.metrics()) > 0,
          'label values escape backslash, double quote and line feed');
SELECT is((SELECT count(*) FROM regexp_split_to_table(rtrim(wallet_ops.metrics(), E'\n'), E'\n') l
            WHERE l !~ '^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* [^\n]*$'
              AND l !~ '^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$'
              AND l !~ '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(\\[\\"n]|[^\\"])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\[\\"n]|[^\\"])*")*\})? (NaN|[+-]Inf|[-+]?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)$'),
          0::bigint, 'every line of metrics() is a HELP, TYPE or sample line');
SELECT is((SELECT count(*) - count(DISTINCT l) FROM regexp_split_to_table(wallet_ops.metrics(), E'\n') l
            WHERE l LIKE '# TYPE %'),
          0::bigint, 'each metric family has one TYPE line');
-- samples of a family follow its TYPE line without another family between
SELECT is((WITH lines AS (
             SELECT l, n, CASE WHEN l LIKE '# %' THEN split_part(l, ' ', 3)
                               ELSE substring(l FROM '^[a-zA-Z_:][a-zA-Z0-9_:]*') END AS fam
               FROM regexp_split_to_table(rtrim(wallet_ops.metrics(), E'\n'), E'\n') WITH ORDINALITY t(l, n))
           SELECT count(*) FROM (SELECT fam, n, lag(fam) OVER (ORDER BY n) AS prev FROM lines) x
            WHERE fam IS DISTINCT FROM prev
              AND EXISTS (SELECT 1 FROM lines y WHERE y.fam = x.fam AND y.n < x.n)),
          0::bigint, 'the lines of each metric family are contiguous');

SELECT * FROM finish();
ROLLBACK;
