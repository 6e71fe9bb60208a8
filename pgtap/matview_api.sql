-- pgTAP: managed materialised views — errors carry their own SQLSTATE and
-- leave nothing behind; a managed view gets its watchers; a committed
-- change (not a rolled-back one) makes it due.
BEGIN;
SELECT plan(17);
CREATE EXTENSION IF NOT EXISTS wallet_ops;

CREATE TABLE pt_src (id int PRIMARY KEY, v int);
CREATE TABLE pt_part (at date NOT NULL, v int) PARTITION BY RANGE (at);
CREATE TABLE pt_part_1 PARTITION OF pt_part FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE VIEW pt_view AS SELECT s.id, s.v FROM pt_src s JOIN pt_part p ON p.v = s.v;
CREATE MATERIALIZED VIEW pt_mv AS SELECT id, v FROM pt_view;
CREATE UNIQUE INDEX ON pt_mv (id);
CREATE MATERIALIZED VIEW pt_catalog AS SELECT oid FROM pg_class;

SELECT has_function('wallet_ops', 'manage_matview', ARRAY['regclass', 'interval', 'boolean']);
SELECT has_function('wallet_ops', 'refresh_matview', ARRAY['regclass']);
SELECT has_function('wallet_ops', 'unmanage_matview', ARRAY['regclass']);

SELECT throws_ok($$SELECT wallet_ops.manage_matview('pt_src')$$, '42809', NULL,
                 'a table is not a materialised view');
SELECT throws_ok($$SELECT wallet_ops.manage_matview('pt_mv', refresh_every => '1 second')$$, '22023', NULL,
                 'refresh_every below the naptime is refused');
SELECT throws_ok($$SELECT wallet_ops.manage_matview('pt_mv', on_change => false)$$, '22023', NULL,
                 'a view that would never be refreshed is refused');
SELECT throws_ok($$SELECT wallet_ops.manage_matview('pt_catalog')$$, '0A000', NULL,
                 'a view reading only catalogs cannot be watched');
SELECT throws_ok($$SELECT wallet_ops.unmanage_matview('pt_mv')$$, '42704', NULL,
                 'unmanaging a view that is not managed');
SELECT is((SELECT count(*) FROM wallet_ops.matviews WHERE mv IN ('pt_mv'::regclass, 'pt_catalog'::regclass)),
          0::bigint, 'refused calls leave no configuration');

SELECT lives_ok($$SELECT wallet_ops.manage_matview('pt_mv')$$, 'managing the view');
SELECT throws_ok($$SELECT wallet_ops.manage_matview('pt_mv')$$, '42710', NULL,
                 'managing twice is refused');
SELECT set_eq($$SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'wallet_ops_matview_watch'
                  AND tgrelid IN ('pt_src'::regclass, 'pt_part'::regclass, 'pt_part_1'::regclass)$$,
              ARRAY['pt_src', 'pt_part', 'pt_part_1'],
              'statement watchers on the table, the partitioned table and its partition');
SELECT set_eq($$SELECT tgenabled::text FROM pg_trigger WHERE tgname = 'wallet_ops_matview_watch'$$,
              ARRAY['A'], 'statement watchers fire always');

SELECT is((SELECT reason FROM wallet_ops._matviews_due('pt_mv')), 'never refreshed',
          'a newly managed view is due once');
SELECT is(wallet_ops.refresh_matview('pt_mv'), 'concurrently', 'refreshed concurrently');
SELECT is_empty($$SELECT * FROM wallet_ops._matviews_due('pt_mv')$$, 'fresh after the refresh');

SAVEPOINT change;
INSERT INTO pt_part_1 VALUES ('2026-01-02', 1);
RELEASE SAVEPOINT change;
-- the change is by this (uncommitted) transaction, after the refresh
SELECT is((SELECT reason FROM wallet_ops._matviews_due('pt_mv')), 'sources changed',
          'a change to a partition makes the view due');

SELECT * FROM finish();
ROLLBACK;
