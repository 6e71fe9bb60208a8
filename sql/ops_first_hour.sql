-- What a DBA meets in the first hour (issue 21): durations in words, the
-- schedules that would not do what they say refused, a notice when a view
-- cannot be refreshed CONCURRENTLY, a freshness row that agrees with
-- itself, health() for people, and metrics an alert can use from the
-- moment an object is managed.  wallet_ops.naptime is 3600 seconds here.
SET TimeZone = 'UTC';
\set SHOW_CONTEXT never

-- ---- durations in words ---------------------------------------------------
SELECT i AS "interval", wallet_ops._interval_words(i) AS words
  FROM unnest(ARRAY['0', '0.4 seconds', '1 second', '45 seconds', '61 seconds', '1 hour',
                    '2 hours 5 seconds', '36 hours', '3 days 04:12:33.5', '114 days 03:00',
                    '1 month', '3 months', '1 year 2 months 3 days', '1 month -3 days',
                    '1 month -30 days', '-3 days', '-1 month 3 days', '250000 years']::interval[]) i;

CREATE ROLE regress_fh_owner;
CREATE ROLE regress_fh_monitor IN ROLE pg_monitor;
CREATE ROLE regress_fh_nobody;
CREATE SCHEMA fh AUTHORIZATION regress_fh_owner;
GRANT USAGE ON SCHEMA fh TO PUBLIC;
SET ROLE regress_fh_owner;

-- ---- schedule_verification ------------------------------------------------
CREATE TABLE fh.ledger (id int, k int);
INSERT INTO fh.ledger SELECT g, g % 3 FROM generate_series(1, 9) g;
SELECT wallet_ops.enable_hash_chain('fh.ledger', '{k}');
-- shorter than wallet_ops.naptime: the worker would verify on every tick
SELECT wallet_ops.schedule_verification('fh.ledger', '1 second');
SELECT sqlstate_of($$SELECT wallet_ops.schedule_verification('fh.ledger', '59 minutes')$$);
-- a full verification less often than every verification: refused
SELECT wallet_ops.schedule_verification('fh.ledger', '1 day', full_every => '12 hours');
SELECT sqlstate_of($$SELECT wallet_ops.schedule_verification('fh.ledger', '1 day', '23 hours')$$);
RESET ROLE;
SELECT count(*) AS scheduled FROM wallet_ops.verification_schedule WHERE relid = 'fh.ledger'::regclass;
SET ROLE regress_fh_owner;
-- one naptime, and full_every equal to every, are accepted
SELECT wallet_ops.schedule_verification('fh.ledger', '1 hour', full_every => '1 hour');
SELECT wallet_ops.schedule_verification('fh.ledger', '1 day', full_every => '7 days');
-- called again without full_every: the weekly full verification is kept,
-- and the notice says what changed
SELECT wallet_ops.schedule_verification('fh.ledger', '2 days');
RESET ROLE;
SELECT every, full_every FROM wallet_ops.verification_schedule WHERE relid = 'fh.ledger'::regclass;
SET ROLE regress_fh_owner;
-- a kept full_every shorter than the new every: refused, nothing changes
SELECT wallet_ops.schedule_verification('fh.ledger', '8 days');
RESET ROLE;
SELECT every, full_every FROM wallet_ops.verification_schedule WHERE relid = 'fh.ledger'::regclass;
SET ROLE regress_fh_owner;
-- naming full_every changes it
SELECT wallet_ops.schedule_verification('fh.ledger', '8 days', full_every => '8 days');
RESET ROLE;
SELECT every, full_every FROM wallet_ops.verification_schedule WHERE relid = 'fh.ledger'::regclass;
SET ROLE regress_fh_owner;
-- to drop the full verifications: unschedule, and schedule again
SELECT wallet_ops.unschedule_verification('fh.ledger');
SELECT wallet_ops.schedule_verification('fh.ledger', '1 day');
RESET ROLE;
SELECT every, full_every FROM wallet_ops.verification_schedule WHERE relid = 'fh.ledger'::regclass;
SET ROLE regress_fh_owner;

-- ---- manage_matview: CONCURRENTLY or a notice saying why not ---------------
CREATE TABLE fh.src (id int PRIMARY KEY, v int, doc json);
INSERT INTO fh.src VALUES (1, 1, '{}'), (2, 2, '{}');
-- no index at all: the notice names the columns of an index that would do
-- (not the json one, which btree cannot index)
CREATE MATERIALIZED VIEW fh.no_index AS SELECT id, v, doc FROM fh.src;
SELECT wallet_ops.manage_matview('fh.no_index');
-- indexes CONCURRENTLY cannot use: each is named, with the reason
CREATE MATERIALIZED VIEW fh.bad_indexes AS SELECT id, v FROM fh.src;
CREATE UNIQUE INDEX bad_partial ON fh.bad_indexes (id) WHERE v > 0;
CREATE UNIQUE INDEX bad_expression ON fh.bad_indexes ((id + v));
CREATE INDEX bad_not_unique ON fh.bad_indexes (v);
SELECT wallet_ops.manage_matview('fh.bad_indexes');
-- no column btree can index
CREATE MATERIALIZED VIEW fh.only_json AS SELECT doc FROM fh.src;
SELECT wallet_ops.manage_matview('fh.only_json', refresh_every => '1 day', on_change => false);
-- a usable unique index: no notice, also before the view is populated
CREATE MATERIALIZED VIEW fh.good AS SELECT id, v FROM fh.src;
CREATE UNIQUE INDEX good_id ON fh.good (id);
SELECT wallet_ops.manage_matview('fh.good');
CREATE MATERIALIZED VIEW fh.good_empty AS SELECT id, v FROM fh.src WITH NO DATA;
CREATE UNIQUE INDEX good_empty_id ON fh.good_empty (id);
SELECT wallet_ops.manage_matview('fh.good_empty');
RESET ROLE;
SELECT mv, next_refresh_mode FROM wallet_ops.matview_freshness WHERE mv::text LIKE 'fh.%' ORDER BY 1;
SET ROLE regress_fh_owner;
-- a plain view: the hint says what to do instead
CREATE VIEW fh.plain_view AS SELECT id FROM fh.src;
SELECT wallet_ops.manage_matview('fh.plain_view');
SELECT wallet_ops.manage_matview('fh.src');

-- ---- a freshly managed view's freshness row agrees with itself -------------
-- never refreshed under management: stale since it was managed, and why
RESET ROLE;
SELECT mv, stale, staleness > interval '0' AS waiting,
       staleness = now() - (SELECT managed_at FROM wallet_ops.matviews m WHERE m.mv = f.mv) AS since_managed,
       last_change, stale_reason
  FROM wallet_ops.matview_freshness f WHERE mv = 'fh.good'::regclass;
SELECT staleness = (SELECT staleness FROM wallet_ops.matview_freshness WHERE mv = 'fh.good'::regclass)
       AS status_agrees
  FROM wallet_ops.status WHERE object = 'fh.good';
SET ROLE regress_fh_owner;
SELECT wallet_ops.refresh_matview('fh.good');
RESET ROLE;
SELECT mv, stale, staleness, stale_reason FROM wallet_ops.matview_freshness WHERE mv = 'fh.good'::regclass;
SET ROLE regress_fh_owner;
INSERT INTO fh.src VALUES (3, 3, '{}');
RESET ROLE;
SELECT mv, stale, last_change IS NOT NULL AS change_seen, stale_reason
  FROM wallet_ops.matview_freshness WHERE mv = 'fh.good'::regclass;
-- a schedule-only view is not watched, so never stale
SELECT mv, stale, staleness, stale_reason FROM wallet_ops.matview_freshness WHERE mv = 'fh.only_json'::regclass;
SET ROLE regress_fh_owner;

-- ---- health_checks: health() for people -------------------------------------
RESET ROLE;
CREATE TABLE fh.events (at timestamptz NOT NULL, v int) PARTITION BY RANGE (at);
SELECT count(*) AS partition_actions FROM wallet_ops.manage_partitions('fh.events', 'month', premake => 1);
SELECT wallet_ops.schedule_verification('fh.ledger', '1 hour');
-- the view has the checks of health(), no more and no fewer
SELECT (SELECT count(*) FROM wallet_ops.health_checks)
       = jsonb_array_length(wallet_ops.health()->'checks') AS same_checks;
SELECT count(*) AS differing FROM (
    SELECT check_name, object, status, detail FROM wallet_ops.health_checks
    EXCEPT
    SELECT c->>'check', c->>'object', c->>'status', c->>'detail'
      FROM jsonb_array_elements(wallet_ops.health()->'checks') c) d;
-- durations in words: as of 3 days and 4 hours from now, views never
-- refreshed and a verification never run
SELECT check_name, object, status,
       regexp_replace(detail, '\d{4}-\d\d-\d\d \d\d:\d\d', 'TIME', 'g') AS detail
  FROM wallet_ops._health_checks(now() + interval '3 days 4 hours')
 WHERE object LIKE 'fh.%' AND check_name IN ('staleness', 'verification')
 ORDER BY 1, 2;
SELECT object, regexp_replace(headline, '\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?', 'TIME', 'g') AS headline
  FROM wallet_ops._status_at(now() + interval '3 days 4 hours')
 WHERE object IN ('fh.good', 'fh.ledger') AND kind IN ('matview', 'hash_chain') ORDER BY 1;
SELECT check_name, object, status,
       detail ~ '^partitions up to \d{4}-\d\d-\d\d 00:00 UTC, \d+ days( \d+ hours?)? ahead \(at least 1 month is ok\)$' AS in_words
  FROM wallet_ops.health_checks WHERE object = 'fh.events' AND check_name = 'runway';
-- the worst first: a critical check (partitions for next month and the
-- default partition dropped by hand: an INSERT can fail), then the
-- warnings (a verification that could not run), then what is ok
DO $$
BEGIN
  EXECUTE format('DROP TABLE fh.%I', 'events_' || to_char(date_trunc('month', now(), 'UTC') + interval '1 month', 'YYYY_MM'));
  DROP TABLE fh.events_default;
END $$;
INSERT INTO wallet_ops.verification_state (relid, last_run, last_result, last_error)
VALUES ('fh.ledger', now(), 'error', 'could not read');
SELECT status, check_name, object FROM wallet_ops.health_checks WHERE object LIKE 'fh.%' AND status <> 'ok';
SELECT array_agg(status ORDER BY n)
       = array_agg(status ORDER BY CASE status WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, n)
       AS worst_first,
       bool_or(status = 'critical') AND bool_or(status = 'warning') AND bool_or(status = 'ok') AS all_three
  FROM (SELECT status, row_number() OVER () AS n FROM wallet_ops.health_checks) h;
DELETE FROM wallet_ops.verification_state WHERE relid = 'fh.ledger'::regclass;

-- who may read it: pg_monitor, like health(); others get PostgreSQL's
-- own permission error (docs/operations.md says what to grant)
SET ROLE regress_fh_monitor;
SELECT count(*) > 0 AS monitor_reads FROM wallet_ops.health_checks;
SET ROLE regress_fh_nobody;
SELECT sqlstate_of($$SELECT * FROM wallet_ops.health_checks$$);
SELECT sqlstate_of($$SELECT wallet_ops.health()$$);
RESET ROLE;

-- ---- metrics an alert can use from the first day -----------------------------
-- a chained table never verified has an audit age, counted from when it
-- was chained: three days from now, three days
CREATE TABLE fh.unaudited (id int, k int);
SELECT wallet_ops.enable_hash_chain('fh.unaudited', '{k}');
SELECT round((substring(wallet_ops._metrics_at(now() + interval '3 days')
                        FROM E'\nwallet_ops_chain_audit_age_seconds\\{table="fh\\.unaudited"\\} ([0-9.e+]+)\n')::float8
              - (SELECT extract(epoch FROM now() + interval '3 days' - enabled_at)::float8
                   FROM wallet_ops.hash_chains WHERE relid = 'fh.unaudited'::regclass))::numeric, 3) AS age_minus_expected;
-- once verified clean, it counts from the verification
SELECT count(*) AS problems FROM wallet_ops.run_verification('fh.unaudited');
SELECT substring(wallet_ops._metrics_at((SELECT last_verified FROM wallet_ops.verification_state
                                          WHERE relid = 'fh.unaudited'::regclass) + interval '1 hour')
                 FROM E'\nwallet_ops_chain_audit_age_seconds\\{table="fh\\.unaudited"\\} ([0-9.e+]+)\n') AS age_an_hour_later;
-- failures: 0 for every managed object and for the worker, before any failed
SELECT m AS metric FROM regexp_split_to_table(wallet_ops.metrics(), E'\n') m
 WHERE m ~ '^wallet_ops_job_failures\{object="(fh\.|contrib_regression)' ORDER BY 1;
-- a refresh that fails is counted
CREATE MATERIALIZED VIEW fh.fragile AS SELECT id, 10 / v AS x FROM fh.src;
CREATE UNIQUE INDEX ON fh.fragile (id);
SELECT wallet_ops.manage_matview('fh.fragile');
SELECT wallet_ops.refresh_matview('fh.fragile');
INSERT INTO fh.src VALUES (4, 0, '{}');
SET client_min_messages = error;
SELECT object, action FROM wallet_ops.run_maintenance('fh.fragile');
RESET client_min_messages;
SELECT m AS metric FROM regexp_split_to_table(wallet_ops.metrics(), E'\n') m
 WHERE m LIKE 'wallet_ops_job_failures{object="fh.fragile"%';

-- ---- hints that say what to do ----------------------------------------------
CREATE TABLE fh.two_keys (a text NOT NULL, b int NOT NULL, v text);
SELECT wallet_ops.enable_hash_chain('fh.two_keys', '{a,b}');
SELECT * FROM wallet_ops.verify_chain('fh.two_keys', '["a"]');
CREATE TABLE fh.by_day (at timestamptz NOT NULL) PARTITION BY RANGE (at);
SELECT * FROM wallet_ops.manage_partitions('fh.by_day', 'fortnight');
CREATE MATERIALIZED VIEW fh.unmanaged AS SELECT 1 AS x;
SELECT wallet_ops.unmanage_matview('fh.unmanaged');
SELECT wallet_ops.refresh_matview('fh.plain_view');

-- ---- clean up ---------------------------------------------------------------
SELECT wallet_ops.release_append_only('fh.two_keys');
SELECT wallet_ops.release_append_only('fh.ledger');
SELECT wallet_ops.release_append_only('fh.unaudited');
SELECT wallet_ops.unmanage_partitions('fh.events');
SELECT wallet_ops.unmanage_matview(mv) FROM wallet_ops.matviews WHERE mv::text LIKE 'fh.%' ORDER BY mv::text;
DELETE FROM wallet_ops.job_log WHERE object LIKE 'fh.%';
DROP SCHEMA fh CASCADE;
DROP ROLE regress_fh_owner;
DROP ROLE regress_fh_monitor;
DROP ROLE regress_fh_nobody;
