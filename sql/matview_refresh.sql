-- Managed materialised views: change tracking and refreshes, driven here by
-- wallet_ops._matviews_run() (the view part of a maintenance pass) since the
-- worker ticks only hourly in this instance.
SET client_min_messages = warning;

CREATE SCHEMA mvr;
CREATE TABLE mvr.accounts (id int PRIMARY KEY, owner text NOT NULL);
CREATE TABLE mvr.events (at date NOT NULL, account int NOT NULL, amount numeric NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE mvr.events_2026_01 PARTITION OF mvr.events
    FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE mvr.events_2026_02 PARTITION OF mvr.events
    FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
INSERT INTO mvr.accounts VALUES (1, 'ann'), (2, 'bob');
INSERT INTO mvr.events VALUES ('2026-01-05', 1, 10), ('2026-02-05', 2, 20);
CREATE MATERIALIZED VIEW mvr.balances AS
    SELECT a.id, a.owner, coalesce(sum(e.amount), 0) AS total
      FROM mvr.accounts a LEFT JOIN mvr.events e ON e.account = a.id
     GROUP BY a.id, a.owner;
CREATE UNIQUE INDEX balances_id ON mvr.balances (id);
-- built without data and without a usable unique index: refreshed plainly
CREATE MATERIALIZED VIEW mvr.owners AS SELECT DISTINCT owner FROM mvr.accounts WITH NO DATA;
CREATE UNIQUE INDEX owners_partial ON mvr.owners (owner) WHERE owner <> '';
-- a view over a view: refreshed after the view it reads, in the same pass
CREATE MATERIALIZED VIEW mvr.rich AS SELECT id FROM mvr.balances WHERE total >= 100;
-- this one fails when a ratio has no parts
CREATE TABLE mvr.ratios (id int, parts int);
INSERT INTO mvr.ratios VALUES (1, 2);
CREATE MATERIALIZED VIEW mvr.fragile AS SELECT id, 100 / parts AS share FROM mvr.ratios;

SELECT wallet_ops.manage_matview('mvr.balances');
SELECT wallet_ops.manage_matview('mvr.owners');
SELECT wallet_ops.manage_matview('mvr.rich');
SELECT wallet_ops.manage_matview('mvr.fragile');

-- a view's state only counts what wallet_ops did
CREATE FUNCTION mvr.state() RETURNS TABLE (mv regclass, refresh_mode text, refreshes bigint,
                                          failures bigint, last_result text, stale boolean)
LANGUAGE sql AS $$
    SELECT f.mv, f.refresh_mode, f.refreshes, f.failures, f.last_result, f.stale
      FROM wallet_ops.matview_freshness f
     WHERE f.mv::text LIKE 'mvr.%' ORDER BY f.mv::text
$$;

-- first pass: every view refreshed once (its freshness was unknown); rich
-- comes after balances in the same pass, so it saw balances' new rows
SELECT * FROM wallet_ops._matviews_run() ORDER BY object;
SELECT * FROM mvr.state();
SELECT count(*) FROM mvr.owners;
-- nothing changed: nothing is due, however often we look
SELECT * FROM wallet_ops._matviews_due();
SELECT * FROM wallet_ops._matviews_run();
SELECT * FROM wallet_ops._matviews_run();
-- the view is now populated but its only unique index is partial: still plain
SELECT mv, next_refresh_mode FROM wallet_ops.matview_freshness WHERE mv::text LIKE 'mvr.%' ORDER BY mv::text;

-- a committed insert marks the views reading the table
INSERT INTO mvr.accounts VALUES (3, 'cyd');
SELECT * FROM wallet_ops._matviews_due() ORDER BY mv::text;
SELECT mv, stale FROM wallet_ops.matview_freshness WHERE mv::text LIKE 'mvr.%' ORDER BY mv::text;
SELECT * FROM wallet_ops._matviews_run() ORDER BY object;
SELECT * FROM mvr.balances ORDER BY id;
-- the refresh of balances made rich stale in turn, and the same pass
-- refreshed rich too: nothing is left
SELECT * FROM wallet_ops._matviews_due();
SELECT * FROM wallet_ops._matviews_run();
SELECT * FROM wallet_ops._matviews_due();

-- a rolled-back change leaves no mark, nor does one in a rolled-back subtransaction
BEGIN;
INSERT INTO mvr.accounts VALUES (4, 'dee');
UPDATE mvr.events SET amount = amount + 1;
ROLLBACK;
BEGIN;
SAVEPOINT s1;
DELETE FROM mvr.accounts WHERE id = 3;
ROLLBACK TO SAVEPOINT s1;
COMMIT;
SELECT * FROM wallet_ops._matviews_due();
-- a statement that changes no row is no change
UPDATE mvr.accounts SET owner = 'nobody' WHERE id = 99;
DELETE FROM mvr.events_2026_01 WHERE account = 99;
SELECT * FROM wallet_ops._matviews_due();

-- a change in a subtransaction that rolled back, then a real one, in one transaction
BEGIN;
SAVEPOINT s1;
INSERT INTO mvr.accounts VALUES (5, 'eve');
ROLLBACK TO SAVEPOINT s1;
INSERT INTO mvr.accounts VALUES (6, 'fay');
COMMIT;
SELECT * FROM wallet_ops._matviews_due() ORDER BY mv::text;
SELECT count(*) FROM wallet_ops._matviews_run();
SELECT count(*) FROM wallet_ops._matviews_run();

-- a direct insert into a partition marks the view reading the parent
INSERT INTO mvr.events_2026_02 VALUES ('2026-02-10', 1, 500);
SELECT * FROM wallet_ops._matviews_due();
SELECT * FROM wallet_ops._matviews_run() ORDER BY object;
SELECT * FROM wallet_ops._matviews_run() ORDER BY object;
SELECT * FROM mvr.rich;

-- a view reading one partition sees rows routed to it through the parent
CREATE MATERIALIZED VIEW mvr.february AS SELECT count(*) AS n FROM mvr.events_2026_02;
SELECT wallet_ops.manage_matview('mvr.february');
SELECT count(*) FROM wallet_ops._matviews_run('mvr.february');
INSERT INTO mvr.events VALUES ('2026-02-11', 2, 1);
SELECT * FROM wallet_ops._matviews_due('mvr.february');
SELECT count(*) FROM wallet_ops._matviews_run('mvr.february');
SELECT n FROM mvr.february;
SELECT wallet_ops.unmanage_matview('mvr.february');
DROP MATERIALIZED VIEW mvr.february;
-- (the row also reached balances, and through it rich)
SELECT * FROM wallet_ops._matviews_run() ORDER BY object;
SELECT * FROM wallet_ops._matviews_run() ORDER BY object;

-- attaching a table with rows, detaching one, and redefining a view in
-- between change what the view reads without any DML: they count too
CREATE TABLE mvr.events_2026_03 (LIKE mvr.events);
INSERT INTO mvr.events_2026_03 VALUES ('2026-03-03', 2, 1000);
SELECT * FROM wallet_ops._matviews_due();
ALTER TABLE mvr.events ATTACH PARTITION mvr.events_2026_03
    FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
SELECT * FROM wallet_ops._matviews_due();
SELECT * FROM wallet_ops._matviews_run() ORDER BY object;
SELECT * FROM wallet_ops._matviews_run() ORDER BY object;
SELECT * FROM mvr.rich ORDER BY id;
ALTER TABLE mvr.events DETACH PARTITION mvr.events_2026_03;
SELECT * FROM wallet_ops._matviews_due();
SELECT count(*) FROM wallet_ops._matviews_run();
SELECT count(*) FROM wallet_ops._matviews_run();
DROP TABLE mvr.events_2026_03;
CREATE VIEW mvr.big_ratios AS SELECT * FROM mvr.ratios WHERE parts > 0;
CREATE MATERIALIZED VIEW mvr.ratio_count AS SELECT count(*) AS n FROM mvr.big_ratios;
SELECT wallet_ops.manage_matview('mvr.ratio_count');
SELECT count(*) FROM wallet_ops._matviews_run('mvr.ratio_count');
CREATE OR REPLACE VIEW mvr.big_ratios AS SELECT * FROM mvr.ratios WHERE parts > 1;
SELECT * FROM wallet_ops._matviews_due('mvr.ratio_count');
SELECT wallet_ops.unmanage_matview('mvr.ratio_count');
DROP VIEW mvr.big_ratios CASCADE;

-- TRUNCATE and COPY count; so do replication-role sessions
TRUNCATE mvr.events_2026_01;
SELECT * FROM wallet_ops._matviews_due();
SELECT count(*) FROM wallet_ops._matviews_run();
SELECT count(*) FROM wallet_ops._matviews_run();
COPY mvr.events FROM stdin;
2026-01-07	2	1
\.
SELECT * FROM wallet_ops._matviews_due();
SELECT count(*) FROM wallet_ops._matviews_run();
SELECT count(*) FROM wallet_ops._matviews_run();
SET session_replication_role = replica;
INSERT INTO mvr.ratios VALUES (2, 4);
RESET session_replication_role;
SELECT * FROM wallet_ops._matviews_due();
SELECT * FROM wallet_ops._matviews_run();

-- one transaction, many statements on one table: one change row
BEGIN;
INSERT INTO mvr.ratios VALUES (3, 5);
INSERT INTO mvr.ratios VALUES (4, 5);
UPDATE mvr.ratios SET parts = parts + 1 WHERE id = 4;
SELECT count(*) AS change_rows FROM wallet_ops.matview_changes WHERE source = 'mvr.ratios'::regclass;
COMMIT;
SELECT * FROM wallet_ops._matviews_run();
-- consumed changes are pruned
SELECT count(*) AS change_rows FROM wallet_ops.matview_changes;

-- a failing view is recorded and retried; the others are still refreshed
INSERT INTO mvr.ratios VALUES (9, 0);
INSERT INTO mvr.accounts VALUES (7, 'gus');
SELECT * FROM wallet_ops._matviews_run() ORDER BY object;
SELECT * FROM mvr.state();
SELECT mv, last_error FROM wallet_ops.matview_state WHERE mv = 'mvr.fragile'::regclass;
SELECT object, action, outcome, detail, error, sqlstate FROM wallet_ops.job_log
 WHERE object = 'mvr.fragile' AND outcome = 'error';
-- still due on the next pass
SELECT * FROM wallet_ops._matviews_due();
DELETE FROM mvr.ratios WHERE parts = 0;
SELECT * FROM wallet_ops._matviews_run();
SELECT mv, last_result, last_error IS NOT NULL AS has_last_error FROM wallet_ops.matview_state
 WHERE mv = 'mvr.fragile'::regclass;

-- a view is refreshed after the views it reads, whatever their age: here
-- the older outer view reads, through a redefined plain view, a newer one
CREATE TABLE mvr.rates (ccy text PRIMARY KEY, rate numeric);
CREATE VIEW mvr.rate_feed AS SELECT ccy, rate FROM mvr.rates;
CREATE MATERIALIZED VIEW mvr.outer_rates AS SELECT count(*) AS n FROM mvr.rate_feed;
CREATE MATERIALIZED VIEW mvr.inner_rates AS SELECT ccy, rate FROM mvr.rates;
CREATE OR REPLACE VIEW mvr.rate_feed AS SELECT ccy, rate FROM mvr.inner_rates;
SELECT wallet_ops.manage_matview('mvr.outer_rates');
SELECT wallet_ops.manage_matview('mvr.inner_rates');
SELECT object, action FROM wallet_ops._matviews_run() ORDER BY object;
INSERT INTO mvr.rates VALUES ('EUR', 1), ('USD', 1.1);
SELECT object, action, detail FROM wallet_ops._matviews_run();
SELECT n FROM mvr.outer_rates;
SELECT * FROM wallet_ops._matviews_due();
SELECT wallet_ops.unmanage_matview('mvr.outer_rates');
SELECT wallet_ops.unmanage_matview('mvr.inner_rates');
DROP TABLE mvr.rates CASCADE;

-- a watcher disabled by hand shows in the freshness view
ALTER TABLE mvr.events_2026_01 DISABLE TRIGGER wallet_ops_matview_watch;
SELECT mv, unwatched_sources FROM wallet_ops.matview_freshness WHERE mv::text LIKE 'mvr.%' ORDER BY mv::text;
ALTER TABLE mvr.events_2026_01 ENABLE ALWAYS TRIGGER wallet_ops_matview_watch;
SELECT mv, unwatched_sources FROM wallet_ops.matview_freshness WHERE mv = 'mvr.balances'::regclass;

-- refresh_matview() refreshes now, managed or not, and says how
CREATE MATERIALIZED VIEW mvr.unmanaged AS SELECT 1 AS one;
SELECT wallet_ops.refresh_matview('mvr.unmanaged');
SELECT wallet_ops.refresh_matview('mvr.balances');
SELECT refreshes FROM wallet_ops.matview_state WHERE mv = 'mvr.balances'::regclass;
SELECT object, action, outcome, detail FROM wallet_ops.job_log
 WHERE object IN ('mvr.unmanaged', 'mvr.balances') AND detail LIKE '%refresh_matview%'
 ORDER BY job_id;

-- refresh_every: due when the interval (less half a naptime) has passed
SELECT wallet_ops.unmanage_matview('mvr.owners');
SELECT wallet_ops.manage_matview('mvr.owners', refresh_every => '2 hours', on_change => false);
SELECT * FROM wallet_ops._matviews_due();
SELECT * FROM wallet_ops._matviews_run();
SELECT * FROM wallet_ops._matviews_due();
UPDATE wallet_ops.matview_state SET last_refresh = now() - interval '91 minutes'
 WHERE mv = 'mvr.owners'::regclass;
SELECT * FROM wallet_ops._matviews_due();
UPDATE wallet_ops.matview_state SET last_refresh = now() - interval '89 minutes'
 WHERE mv = 'mvr.owners'::regclass;
SELECT * FROM wallet_ops._matviews_due();
-- with on_change false, changes do not matter
INSERT INTO mvr.accounts VALUES (8, 'hal');
SELECT * FROM wallet_ops._matviews_due() ORDER BY mv::text;

-- a maintenance pass run by a role that is not a superuser (here through
-- _matviews_run(), the view part of run_maintenance()) refreshes its own
-- views only
CREATE ROLE mvr_owner;
GRANT USAGE, CREATE ON SCHEMA mvr TO mvr_owner;
GRANT SELECT ON mvr.accounts TO mvr_owner;
GRANT EXECUTE ON FUNCTION wallet_ops._matviews_run(regclass) TO mvr_owner;
SET ROLE mvr_owner;
CREATE MATERIALIZED VIEW mvr.mine AS SELECT count(*) AS n FROM mvr.accounts;
SELECT wallet_ops.manage_matview('mvr.mine');
RESET ROLE;
INSERT INTO mvr.accounts VALUES (9, 'ida');
SET ROLE mvr_owner;
SELECT object, action, detail FROM wallet_ops._matviews_run() ORDER BY object;
\set VERBOSITY sqlstate
SELECT * FROM wallet_ops._matviews_run('mvr.balances');
\set VERBOSITY default
SELECT * FROM wallet_ops._matviews_run('mvr.balances');
RESET ROLE;
SELECT * FROM wallet_ops._matviews_due() ORDER BY mv::text;
-- run_maintenance() of a view that is not managed
SELECT * FROM wallet_ops.run_maintenance('mvr.unmanaged');

SELECT wallet_ops.unmanage_matview(mv) FROM wallet_ops.matviews WHERE mv::text LIKE 'mvr.%';
DROP SCHEMA mvr CASCADE;
DROP OWNED BY mvr_owner;
DROP ROLE mvr_owner;
SELECT count(*) AS change_rows_left FROM wallet_ops._matviews_run();
SELECT count(*) AS change_rows_left FROM wallet_ops.matview_changes;
