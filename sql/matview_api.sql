-- Managed materialised views: the API, its errors and what it sets up.
-- (The extension was created by 00_extension.)
SET client_min_messages = notice;
\set VERBOSITY default

CREATE SCHEMA mvt;
CREATE TABLE mvt.accounts (id int PRIMARY KEY, owner text NOT NULL);
CREATE TABLE mvt.events (at date NOT NULL, account int NOT NULL, amount numeric NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE mvt.events_2026_01 PARTITION OF mvt.events
    FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE mvt.events_2026_02 PARTITION OF mvt.events
    FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
CREATE TABLE mvt.unrelated (x int);
-- a plain view between the materialised view and some of its tables
CREATE VIEW mvt.totals AS
    SELECT account, sum(amount) AS total FROM mvt.events GROUP BY account;
CREATE MATERIALIZED VIEW mvt.balances AS
    SELECT a.id, a.owner, coalesce(t.total, 0) AS total
      FROM mvt.accounts a LEFT JOIN mvt.totals t ON t.account = a.id;
CREATE UNIQUE INDEX balances_id ON mvt.balances (id);
-- no unique index: refreshed plainly
CREATE MATERIALIZED VIEW mvt.owners AS SELECT DISTINCT owner FROM mvt.accounts;
CREATE MATERIALIZED VIEW mvt.on_catalog AS SELECT relname FROM pg_class WHERE relkind = 'r';

-- sources are found through the view, with every partition
SELECT source FROM unnest(wallet_ops.matview_sources('mvt.balances')) AS source ORDER BY source::text;
SELECT wallet_ops.matview_sources('mvt.owners');
-- a view reading one partition watches its parent too: rows inserted
-- through the parent fire the parent's statement triggers only
CREATE MATERIALIZED VIEW mvt.january AS SELECT count(*) FROM mvt.events_2026_01;
SELECT source FROM unnest(wallet_ops.matview_sources('mvt.january')) AS source ORDER BY source::text;
DROP MATERIALIZED VIEW mvt.january;

-- bad input: each error has its own SQLSTATE and nothing is left behind
\set VERBOSITY sqlstate
SELECT wallet_ops.manage_matview('mvt.accounts');           -- a table
SELECT wallet_ops.manage_matview('mvt.totals');             -- a plain view
SELECT wallet_ops.manage_matview(NULL);
SELECT wallet_ops.manage_matview('mvt.balances', on_change => NULL);
SELECT wallet_ops.manage_matview('mvt.balances', refresh_every => '10 minutes');   -- naptime is 3600 s
SELECT wallet_ops.manage_matview('mvt.balances', refresh_every => '-2 hours');
SELECT wallet_ops.manage_matview('mvt.balances', on_change => false);
SELECT wallet_ops.manage_matview('mvt.on_catalog');         -- reads no table that can be watched
SELECT wallet_ops.unmanage_matview('mvt.balances');         -- not managed
SELECT wallet_ops.refresh_matview('mvt.accounts');
\set VERBOSITY default
SELECT wallet_ops.manage_matview('mvt.balances', refresh_every => '10 minutes');
SELECT wallet_ops.manage_matview('mvt.on_catalog');
SELECT count(*) AS configs FROM wallet_ops.matviews;
SELECT count(*) AS watchers FROM pg_trigger WHERE tgname LIKE 'wallet_ops_matview%';

-- a role that does not own the view cannot manage, unmanage or refresh it
CREATE ROLE mvt_reader;
GRANT USAGE ON SCHEMA mvt TO mvt_reader;
SET ROLE mvt_reader;
\set VERBOSITY sqlstate
SELECT wallet_ops.manage_matview('mvt.balances');
SELECT wallet_ops.refresh_matview('mvt.balances');
\set VERBOSITY default
SELECT wallet_ops.manage_matview('mvt.balances');
RESET ROLE;
SELECT count(*) AS configs FROM wallet_ops.matviews;

-- managing: configuration, state, and watchers on every table and partition
SELECT wallet_ops.manage_matview('mvt.balances');
SELECT wallet_ops.manage_matview('mvt.owners', refresh_every => '2 hours', on_change => false);
SELECT wallet_ops.manage_matview('mvt.on_catalog', refresh_every => '1 day', on_change => false);
SELECT mv, refresh_every, on_change, managed_by FROM wallet_ops.matviews ORDER BY mv::text;
SELECT mv, refresh_mode, last_refresh IS NULL AS never_refreshed, refreshes
  FROM wallet_ops.matview_state ORDER BY mv::text;
-- statement watchers fire always (also for replication-role sessions);
-- row watchers on leaf tables fire only for the replica role (logical
-- replication apply fires row triggers only)
SELECT tgrelid::regclass AS tbl, tgname, tgenabled,
       CASE WHEN tgtype & 1 = 1 THEN 'row' ELSE 'statement' END AS level
  FROM pg_trigger WHERE tgname LIKE 'wallet_ops_matview%'
 ORDER BY tgrelid::regclass::text, tgname;
SELECT evtname, evtevent, evtenabled FROM pg_event_trigger
 WHERE evtname LIKE 'wallet_ops_matviews%' ORDER BY 1;

-- managing twice
\set VERBOSITY sqlstate
SELECT wallet_ops.manage_matview('mvt.balances');
\set VERBOSITY default
SELECT wallet_ops.manage_matview('mvt.balances');

-- due now: never refreshed (on_change) or refresh_every elapsed
SELECT * FROM wallet_ops._matviews_due() ORDER BY mv::text;

-- a new partition of a watched table gets its watchers; a detached one loses them
CREATE TABLE mvt.events_2026_03 PARTITION OF mvt.events
    FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
CREATE TABLE mvt.events_2026_04 (LIKE mvt.events);
ALTER TABLE mvt.events ATTACH PARTITION mvt.events_2026_04
    FOR VALUES FROM ('2026-04-01') TO ('2026-05-01');
ALTER TABLE mvt.events DETACH PARTITION mvt.events_2026_01;
SELECT tgrelid::regclass AS tbl, tgname, tgenabled
  FROM pg_trigger WHERE tgname LIKE 'wallet_ops_matview%' AND tgrelid::regclass::text LIKE 'mvt.events%'
 ORDER BY tgrelid::regclass::text, tgname;
ALTER TABLE mvt.events ATTACH PARTITION mvt.events_2026_01
    FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
SELECT count(*) AS watchers_on_jan FROM pg_trigger
 WHERE tgrelid = 'mvt.events_2026_01'::regclass AND tgname LIKE 'wallet_ops_matview%';

-- a redefined view moves the watchers
CREATE OR REPLACE VIEW mvt.totals AS
    SELECT account, sum(amount) AS total FROM mvt.events
     WHERE account IN (SELECT x FROM mvt.unrelated) GROUP BY account;
SELECT count(*) AS watchers_on_unrelated FROM pg_trigger
 WHERE tgrelid = 'mvt.unrelated'::regclass AND tgname LIKE 'wallet_ops_matview%';
CREATE OR REPLACE VIEW mvt.totals AS
    SELECT account, sum(amount) AS total FROM mvt.events GROUP BY account;
SELECT count(*) AS watchers_on_unrelated FROM pg_trigger
 WHERE tgrelid = 'mvt.unrelated'::regclass AND tgname LIKE 'wallet_ops_matview%';

-- unmanage keeps watchers another view still needs
CREATE MATERIALIZED VIEW mvt.account_count AS SELECT count(*) AS n FROM mvt.accounts;
SELECT wallet_ops.manage_matview('mvt.account_count');
SELECT wallet_ops.unmanage_matview('mvt.balances');
SELECT tgrelid::regclass AS tbl, count(*) AS watchers
  FROM pg_trigger WHERE tgname LIKE 'wallet_ops_matview%'
 GROUP BY tgrelid ORDER BY tgrelid::regclass::text;
SELECT mv FROM wallet_ops.matview_state ORDER BY mv::text;

-- dropping a managed view removes its configuration and watchers
DROP MATERIALIZED VIEW mvt.account_count;
SELECT mv FROM wallet_ops.matviews ORDER BY mv::text;
SELECT count(*) AS watchers FROM pg_trigger WHERE tgname LIKE 'wallet_ops_matview%';

-- the configuration table is dumped by pg_dump, the others are not
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) AS t(oid)
  JOIN pg_class c ON c.oid = t.oid
 WHERE e.extname = 'wallet_ops' AND c.relname LIKE 'matview%' ORDER BY 1;

SELECT wallet_ops.unmanage_matview('mvt.owners');
SELECT wallet_ops.unmanage_matview('mvt.on_catalog');
SET client_min_messages = warning;
DROP SCHEMA mvt CASCADE;
DROP ROLE mvt_reader;
SELECT count(*) AS left_over FROM wallet_ops.matviews;
