# Upgrades: a database that installed the released 1.0.0 and ran
# ALTER EXTENSION wallet_ops UPDATE has the same objects, definitions,
# privileges and comments as a fresh install of the current version, its
# chains still verify, and the worker keeps serving it, before and after a
# restart.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init(extra => ['--encoding=UTF8', '--locale=C']);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'wallet_ops'
wallet_ops.naptime = 1
});
$node->start;

my $current = $node->safe_psql('postgres',
	q{SELECT default_version FROM pg_available_extensions WHERE name = 'wallet_ops'});

# Everything the extension owns, described so that two databases compare.
my $catalog = q{
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'wallet_ops'),
members AS (
    SELECT d.classid, d.objid FROM pg_depend d, ext
     WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e')
SELECT 'member ' || pg_describe_object(classid, objid, 0) FROM members
UNION ALL
SELECT 'function ' || p.oid::regprocedure || ' ' || pg_get_functiondef(p.oid)
       || ' acl=' || coalesce(p.proacl::text, 'default')
       || ' comment=' || coalesce(obj_description(p.oid, 'pg_proc'), '')
  FROM pg_proc p WHERE p.pronamespace = 'wallet_ops'::regnamespace AND p.prokind <> 'a'
UNION ALL
SELECT 'relation ' || c.oid::regclass || ' kind=' || c.relkind::text
       || ' acl=' || coalesce(c.relacl::text, 'default')
       || ' options=' || coalesce(c.reloptions::text, '')
       || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '')
       || CASE WHEN c.relkind = 'v' THEN ' ' || pg_get_viewdef(c.oid) ELSE '' END
  FROM pg_class c WHERE c.relnamespace = 'wallet_ops'::regnamespace
UNION ALL
SELECT 'column ' || a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
       || ' acl=' || coalesce(a.attacl::text, 'default')
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace = 'wallet_ops'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'wallet_ops'::regnamespace
UNION ALL
SELECT 'index ' || pg_get_indexdef(indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
 WHERE c.relnamespace = 'wallet_ops'::regnamespace
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'wallet_ops'::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT 'event trigger ' || evtname || ' ' || evtevent || ' ' || evtfoid::regproc || ' enabled=' || evtenabled::text
       || ' tags=' || coalesce(evttags::text, '')
  FROM pg_event_trigger e JOIN pg_depend d ON d.classid = 'pg_event_trigger'::regclass AND d.objid = e.oid
  JOIN ext ON d.refobjid = ext.oid
UNION ALL
SELECT 'schema acl=' || coalesce(nspacl::text, 'default') || ' comment='
       || coalesce(obj_description(oid, 'pg_namespace'), '')
  FROM pg_namespace WHERE nspname = 'wallet_ops'
UNION ALL
SELECT 'config ' || c.oid::regclass || ' ' || coalesce(x.cond, '')
  FROM ext, pg_extension e, unnest(e.extconfig, e.extcondition) x(cfg, cond)
  JOIN pg_class c ON c.oid = x.cfg WHERE e.oid = ext.oid
ORDER BY 1
};

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('postgres', 'CREATE DATABASE upgraded');
$node->safe_psql('fresh', 'CREATE EXTENSION wallet_ops');

# 1.0.0 as released, with objects of every kind and data in them
$node->safe_psql('upgraded', q{
CREATE EXTENSION wallet_ops VERSION '1.0.0';
CREATE TABLE entity_history (
    history_id bigint GENERATED ALWAYS AS IDENTITY,
    entity_id  int NOT NULL,
    payload    jsonb NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (changed_at);
SELECT * FROM wallet_ops.manage_partitions('entity_history', 'month');
SELECT wallet_ops.enable_hash_chain('entity_history', '{entity_id}');
INSERT INTO entity_history (entity_id, payload)
SELECT g % 7, jsonb_build_object('g', g) FROM generate_series(1, 700) g;
CREATE TABLE audit_log (id bigint GENERATED ALWAYS AS IDENTITY, at timestamptz NOT NULL DEFAULT now(), note text);
SELECT wallet_ops.enforce_append_only('audit_log');
INSERT INTO audit_log (note) VALUES ('before the upgrade');
CREATE MATERIALIZED VIEW audit_count AS SELECT 1 AS id, count(*) AS n FROM audit_log;
CREATE UNIQUE INDEX ON audit_count (id);
SELECT wallet_ops.manage_matview('audit_count');
SELECT wallet_ops.schedule_verification('entity_history', '1 day');
});
is($node->safe_psql('upgraded', q{SELECT extversion FROM pg_extension WHERE extname = 'wallet_ops'}),
	'1.0.0', 'the released 1.0.0 installs');

$node->safe_psql('upgraded', 'ALTER EXTENSION wallet_ops UPDATE');
is($node->safe_psql('upgraded', q{SELECT extversion FROM pg_extension WHERE extname = 'wallet_ops'}),
	$current, "ALTER EXTENSION UPDATE goes to $current");

my $fresh = $node->safe_psql('fresh', $catalog);
my $upgraded = $node->safe_psql('upgraded', $catalog);
ok(length($fresh) > 10_000, 'the catalog description is not empty');
if ($fresh eq $upgraded)
{
	pass('the upgraded catalog equals a fresh install');
}
else
{
	my %f = map { $_ => 1 } split /\n/, $fresh;
	my %u = map { $_ => 1 } split /\n/, $upgraded;
	fail('the upgraded catalog equals a fresh install');
	diag("only in the fresh install:\n" . join("\n", grep { !$u{$_} } sort keys %f));
	diag("only after the upgrade:\n" . join("\n", grep { !$f{$_} } sort keys %u));
}

# the data went through unchanged and goes on
is($node->safe_psql('upgraded', q{SELECT count(*) FROM wallet_ops.verify_chain('entity_history')}),
	'0', 'the chain written by 1.0.0 verifies after the upgrade');
$node->safe_psql('upgraded', q{
INSERT INTO entity_history (entity_id, payload) SELECT g % 7, '{"after": true}' FROM generate_series(1, 70) g});
is($node->safe_psql('upgraded', q{SELECT count(*) FROM wallet_ops.verify_chain('entity_history')}),
	'0', 'rows chained after the upgrade extend the old chains');
my ($ret, $out, $err) = $node->psql('upgraded', q{UPDATE audit_log SET note = 'changed'});
like($err, qr/append-only/, 'the append-only table is still protected');
is($node->safe_psql('upgraded', q{SELECT string_agg(note, ',') FROM audit_log}),
	'before the upgrade', 'and its row is unchanged');

# the worker serves the upgraded database without a restart, and after one
$node->safe_psql('upgraded', q{INSERT INTO audit_log (note) VALUES ('after the upgrade')});
ok($node->poll_query_until('upgraded', q{SELECT n = 2 FROM audit_count}),
	'the worker refreshes the managed view after the upgrade, without a restart');
$node->restart;
$node->safe_psql('upgraded', q{INSERT INTO audit_log (note) VALUES ('after the restart')});
ok($node->poll_query_until('upgraded', q{SELECT n = 3 FROM audit_count}),
	'and after a restart');
is($node->safe_psql('upgraded', q{SELECT count(*) FROM wallet_ops.run_maintenance('entity_history') WHERE action = 'error'}),
	'0', 'partition maintenance runs on the upgraded database');

done_testing();
