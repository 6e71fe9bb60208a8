# pg_dump / pg_restore keep the partition configuration, and the restored
# database is maintained by its own worker.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'wallet_ops'
wallet_ops.naptime = 1
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
CREATE EXTENSION wallet_ops;
CREATE SCHEMA "My Schema";
CREATE TABLE "My Schema".ev (at date NOT NULL) PARTITION BY RANGE (at);
SELECT count(*) FROM wallet_ops.manage_partitions('"My Schema".ev', 'quarter', 2, '2 years', 'Europe/Berlin', true);
});
my $config = "SELECT relid, period, premake, retention, time_zone, keep_detached"
  . " FROM wallet_ops.partition_config";
my $before = $node->safe_psql('src', $config);

my $dump = $node->basedir . '/src.dump';
$node->command_ok(
	[ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('src') ],
	'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->command_ok(
	[ 'pg_restore', '-d', $node->connstr('dst'), $dump ],
	'pg_restore');
is($node->safe_psql('dst', $config), $before, 'the configuration is restored');

# A partition lost meanwhile is made again by the worker of the new database.
$node->safe_psql('dst',
	"DROP TABLE \"My Schema\".ev_" . $node->safe_psql('dst',
		"SELECT to_char((now() AT TIME ZONE 'Europe/Berlin') + interval '6 months', 'YYYY_\"q\"Q')"));
ok( $node->poll_query_until('dst',
		"SELECT count(*) FROM pg_inherits WHERE inhparent = '\"My Schema\".ev'::regclass", '4'),
	'the restored database is maintained');

$node->stop;
done_testing();
