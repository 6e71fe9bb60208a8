# pg_dump / pg_restore keeps the configuration of managed materialised views
# (wallet_ops.matviews is an extension configuration table) and their
# watchers (triggers dumped with the tables they watch); in the restored
# database the worker keeps the views fresh again.  Dropping a managed view
# there removes its configuration and watchers.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('matview_dump');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'wallet_ops'
wallet_ops.naptime = 1
});
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
CREATE EXTENSION wallet_ops;
CREATE SCHEMA app;
CREATE TABLE app.identities (id int PRIMARY KEY, disabled boolean NOT NULL DEFAULT false);
CREATE TABLE app.grants (at date NOT NULL, principal int NOT NULL, resource text NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE app.grants_2026_01 PARTITION OF app.grants FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE app.grants_2026_02 PARTITION OF app.grants FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
INSERT INTO app.identities VALUES (1), (2);
INSERT INTO app.grants VALUES ('2026-01-02', 1, 'vault'), ('2026-02-02', 2, 'ledger');
CREATE VIEW app.active AS SELECT id FROM app.identities WHERE NOT disabled;
CREATE MATERIALIZED VIEW app.effective AS
    SELECT g.principal, g.resource FROM app.grants g JOIN app.active a ON a.id = g.principal;
CREATE UNIQUE INDEX ON app.effective (principal, resource);
CREATE MATERIALIZED VIEW app.counted AS SELECT count(*) AS n FROM app.identities;
SELECT wallet_ops.manage_matview('app.effective');
SELECT wallet_ops.manage_matview('app.counted', refresh_every => '1 hour', on_change => false);
});

my $config_query = q{
    SELECT string_agg(format('%s|%s|%s', mv, refresh_every, on_change), ',' ORDER BY mv::text)
      FROM wallet_ops.matviews};
my $watchers_query = q{
    SELECT string_agg(format('%s|%s|%s', tgrelid::regclass, tgname, tgenabled), ','
                      ORDER BY tgrelid::regclass::text, tgname)
      FROM pg_trigger WHERE tgname LIKE 'wallet_ops_matview%'};
my $config = $node->safe_psql('src', $config_query);
my $watchers = $node->safe_psql('src', $watchers_query);
is($config, 'app.counted|01:00:00|f,app.effective||t', 'configuration before the dump');
like($watchers, qr/app\.grants_2026_02\|wallet_ops_matview_watch\|A/, 'watchers before the dump');

my $dump = $node->basedir . '/src.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('src') ], 'pg_dump');

$node->safe_psql('postgres', 'CREATE DATABASE restored');
my ($stdout, $stderr);
my $ret = $node->run_log(
	[ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ]);
ok($ret, 'pg_restore succeeds with --exit-on-error');

is($node->safe_psql('restored', $config_query), $config, 'configuration restored');
is($node->safe_psql('restored', $watchers_query), $watchers, 'watchers restored, still enabled always / replica');
is($node->safe_psql('restored', q{SELECT count(*) FROM wallet_ops.matview_state WHERE refreshed_snapshot IS NOT NULL}),
	'0', 'no refresh snapshot comes from the other database');

# The worker of the restored database keeps the view fresh.
sub wait_for
{
	my ($db, $query, $limit) = @_;
	my $start = time;
	while (time - $start < $limit)
	{
		return 1 if $node->safe_psql($db, $query) eq 't';
		usleep(100_000);
	}
	return 0;
}
ok(wait_for('restored', q{SELECT refreshes >= 1 FROM wallet_ops.matview_state WHERE mv = 'app.effective'::regclass}, 60),
	'the restored view is refreshed once under management');
$node->safe_psql('restored', q{
INSERT INTO app.identities VALUES (3);
INSERT INTO app.grants_2026_02 VALUES ('2026-02-09', 3, 'vault');
});
ok(wait_for('restored', q{SELECT count(*) = 3 FROM app.effective}, 60),
	'a change in the restored database reaches the view');
# and the source database is unaffected
is($node->safe_psql('src', 'SELECT count(*) FROM app.effective'), '2', 'the source database is untouched');

# Dropping a managed view removes its configuration and its watchers.
$node->safe_psql('restored', 'DROP MATERIALIZED VIEW app.effective');
is($node->safe_psql('restored', $config_query), 'app.counted|01:00:00|f', 'configuration of the dropped view is gone');
is($node->safe_psql('restored', q{SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'wallet_ops_matview%'}),
	'0', 'its watchers are gone');

$node->stop;
done_testing();
