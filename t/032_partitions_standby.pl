# On a hot standby the worker does nothing; once the standby is promoted it
# starts and makes the partitions that are missing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'wallet_ops'
wallet_ops.naptime = 1
});
$primary->start;
$primary->safe_psql('postgres', 'CREATE DATABASE app');
$primary->safe_psql('app', 'CREATE EXTENSION wallet_ops');
$primary->backup('backup');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;

# The primary stops doing maintenance (ALTER SYSTEM is not replicated), and
# a table is configured without being maintained.
$primary->safe_psql('postgres', 'ALTER SYSTEM SET wallet_ops.enabled = off');
$primary->reload;
ok( $primary->poll_query_until('app',
		"SELECT setting FROM pg_settings WHERE name = 'wallet_ops.enabled'", 'off'),
	'primary paused');
$primary->safe_psql('app', q{
CREATE TABLE ev (at timestamptz NOT NULL) PARTITION BY RANGE (at);
INSERT INTO wallet_ops.partition_config (relid, period, premake) VALUES ('ev', 'month', 2);
});
$primary->wait_for_catchup($standby);

is($standby->safe_psql('app', 'SELECT pg_is_in_recovery()'), 't', 'standby in recovery');
is( $standby->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'wallet_ops%'"),
	'0', 'no wallet_ops process runs on the standby');
is($standby->safe_psql('app', "SELECT count(*) FROM pg_inherits WHERE inhparent = 'ev'::regclass"),
	'0', 'the standby has the configuration but no partitions');
ok($standby->log_contains('database system is ready to accept read-only connections'),
	'the standby accepted connections');
ok(!$standby->log_contains('wallet_ops launcher started'), 'the launcher never started there');

$standby->promote;
ok( $standby->poll_query_until('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'wallet_ops launcher'", '1'),
	'the launcher starts at promotion');
ok( $standby->poll_query_until('app',
		"SELECT count(*) FROM pg_inherits WHERE inhparent = 'ev'::regclass", '4'),
	'the promoted standby makes the missing partitions');
is($primary->safe_psql('app', "SELECT count(*) FROM pg_inherits WHERE inhparent = 'ev'::regclass"),
	'0', 'while the paused primary made none');

$standby->stop;
$primary->stop;
done_testing();
