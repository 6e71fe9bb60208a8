-- pgTAP: the append-only API and its error codes.
BEGIN;
SELECT plan(30);
CREATE EXTENSION IF NOT EXISTS wallet_ops;

SELECT has_function('wallet_ops', 'enforce_append_only', ARRAY['regclass'], 'enforce_append_only(regclass) exists');
SELECT has_function('wallet_ops', 'release_append_only', ARRAY['regclass'], 'release_append_only(regclass) exists');
SELECT has_function('wallet_ops', 'grant_ingest', ARRAY['regclass', 'name'], 'grant_ingest(regclass, name) exists');
SELECT has_table('wallet_ops', 'append_only_tables', 'the protected set is a table');
SELECT ok(NOT has_function_privilege('public', 'wallet_ops.release_append_only(regclass)', 'EXECUTE'),
          'release_append_only is not executable by PUBLIC');
SELECT is(
  (SELECT string_agg(evtname || ':' || evtenabled::text, ', ' ORDER BY evtname) FROM pg_event_trigger
    WHERE evtname LIKE 'wallet\_ops\_append\_only\_%'),
  'wallet_ops_append_only_ddl_end:A, wallet_ops_append_only_ddl_start:A, wallet_ops_append_only_sql_drop:A',
  'the event triggers are ENABLE ALWAYS');

CREATE ROLE tap_ao_owner;
CREATE ROLE tap_ao_ingest;
CREATE ROLE tap_ao_other;
CREATE SCHEMA tap_ao AUTHORIZATION tap_ao_owner;
GRANT USAGE ON SCHEMA tap_ao TO tap_ao_other;
SET ROLE tap_ao_owner;
CREATE TABLE tap_ao.events (id bigserial, at date NOT NULL, what text) PARTITION BY RANGE (at);
CREATE TABLE tap_ao.events_2026 PARTITION OF tap_ao.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE SEQUENCE tap_ao.seq;
INSERT INTO tap_ao.events (at, what) VALUES ('2026-05-05', 'a'), ('2026-06-06', 'b');
RESET ROLE;

SET ROLE tap_ao_other;
SELECT throws_ok($$SELECT wallet_ops.enforce_append_only('tap_ao.events')$$,
                 '42501', 'must be owner of table events', 'only the owner may protect a table');
SET ROLE tap_ao_owner;
SELECT throws_ok($$SELECT wallet_ops.enforce_append_only('tap_ao.seq')$$,
                 '42809', NULL, 'a sequence cannot be append-only');
SELECT lives_ok($$SELECT wallet_ops.enforce_append_only('tap_ao.events')$$, 'the owner protects the table');
SELECT lives_ok($$SELECT wallet_ops.enforce_append_only('tap_ao.events')$$, 'protecting again is harmless');
SELECT is((SELECT count(*) FROM wallet_ops.append_only_tables WHERE relid = 'tap_ao.events'::regclass),
          1::bigint, 'the table is in the protected set once');
SELECT is(
  (SELECT string_agg(tgrelid::regclass::text || ':' || tgname || ':' || tgenabled::text, ', '
                     ORDER BY tgrelid::regclass::text, tgname)
     FROM pg_trigger
    WHERE tgname LIKE 'wallet\_ops\_append\_only\_%' AND tgrelid::regclass::text LIKE 'tap\_ao.%'),
  'tap_ao.events:wallet_ops_append_only_row:A, tap_ao.events:wallet_ops_append_only_stmt:A, '
  'tap_ao.events_2026:wallet_ops_append_only_row:A, tap_ao.events_2026:wallet_ops_append_only_stmt:A',
  'parent and partition carry both guard triggers, ENABLE ALWAYS');

SELECT throws_ok($$UPDATE tap_ao.events SET what = 'x'$$,
                 '42501', 'cannot update append-only table "events"', 'UPDATE through the parent is refused');
SELECT throws_ok($$DELETE FROM tap_ao.events_2026$$,
                 '42501', 'cannot delete from append-only table "events_2026"', 'DELETE on a partition is refused');
SELECT throws_ok($$TRUNCATE tap_ao.events_2026$$,
                 '42501', 'cannot truncate append-only table "events_2026"', 'TRUNCATE of a partition is refused');
SELECT throws_ok($$ALTER TABLE tap_ao.events DETACH PARTITION tap_ao.events_2026$$,
                 '42501', 'cannot detach partition "events_2026" from append-only table "events"', 'DETACH PARTITION is refused');
SELECT throws_ok($$DROP TABLE tap_ao.events_2026$$,
                 '42501', 'cannot drop partition "events_2026" of append-only table "events"', 'DROP TABLE of a partition is refused');
SELECT throws_ok($$ALTER TABLE tap_ao.events DISABLE TRIGGER wallet_ops_append_only_row$$,
                 '42501', NULL, 'DISABLE TRIGGER is refused');
SELECT is((SELECT count(*) FROM tap_ao.events), 2::bigint, 'no row was lost');

-- grant_ingest
SELECT lives_ok($$SELECT wallet_ops.grant_ingest('tap_ao.events', 'tap_ao_ingest')$$, 'grant_ingest');
SELECT lives_ok($$SELECT wallet_ops.grant_ingest('tap_ao.events', 'tap_ao_ingest')$$, 'grant_ingest again is harmless');
SELECT throws_ok($$SELECT wallet_ops.grant_ingest('tap_ao.events', 'tap_ao_no_such_role')$$,
                 '42704', NULL, 'grant_ingest to a missing role');
CREATE TABLE tap_ao.events_2027 PARTITION OF tap_ao.events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
SET ROLE tap_ao_ingest;
SELECT lives_ok($$INSERT INTO tap_ao.events (at, what) VALUES ('2027-02-02', 'c')$$,
                'the ingest role inserts through the parent into a new partition');
SELECT throws_ok($$DELETE FROM tap_ao.events_2027$$, '42501', NULL, 'the ingest role cannot delete');

-- release
SET ROLE tap_ao_owner;
SELECT throws_ok($$SELECT wallet_ops.release_append_only('tap_ao.events')$$,
                 '42501', NULL, 'the owner cannot release');
RESET ROLE;
SELECT throws_ok($$DROP EXTENSION wallet_ops$$, '2BP01',
                 'cannot drop extension "wallet_ops" while append-only tables exist',
                 'the extension stays while tables are protected');
SELECT throws_ok($$SELECT wallet_ops.release_append_only('tap_ao.events_2026')$$,
                 '55000', NULL, 'a partition is released through its parent');
SELECT lives_ok($$SELECT wallet_ops.release_append_only('tap_ao.events')$$, 'a superuser releases the table');
SELECT throws_ok($$SELECT wallet_ops.release_append_only('tap_ao.events')$$,
                 '55000', 'table "events" is not append-only', 'releasing twice');
SELECT lives_ok($$DELETE FROM tap_ao.events_2027$$, 'the released table is ordinary again');

SELECT * FROM finish();
ROLLBACK;
