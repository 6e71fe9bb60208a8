# A long-running reader on a managed table: maintenance with nothing to do
# takes no lock that could make inserts wait; maintenance with DDL to do
# gives up after wallet_ops.lock_timeout, is recorded as skipped, is retried
# on the next tick, and inserts are never stuck behind it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('locks');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'wallet_ops'
wallet_ops.naptime = 1
wallet_ops.lock_timeout = 300
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', q{
CREATE EXTENSION wallet_ops;
CREATE TABLE ev (at timestamptz NOT NULL DEFAULT now(), v int) PARTITION BY RANGE (at);
SELECT count(*) FROM wallet_ops.manage_partitions('ev', 'day', 2);
});
my $parts = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'ev'::regclass";
is($node->safe_psql('app', $parts), '4', 'today, two days ahead and the default partition');

# The reader holds ACCESS SHARE on the table until it commits.
my $reader = $node->background_psql('app');
$reader->query_safe('BEGIN');
$reader->query_safe('SELECT count(*) FROM ev');

# With nothing to do, ticks run and record nothing as skipped.
my $last_run = $node->safe_psql('app',
	"SELECT last_run FROM wallet_ops.partition_config WHERE relid = 'ev'::regclass");
ok( $node->poll_query_until('app',
		"SELECT last_run > '$last_run' FROM wallet_ops.partition_config WHERE relid = 'ev'::regclass"),
	'a tick with nothing to do runs beside the reader');
is( $node->safe_psql('app',
		"SELECT count(*) FROM wallet_ops.job_log WHERE object = 'public.ev' AND outcome = 'skipped'"),
	'0', 'and is not held up by it');

# Now there is DDL to do: it cannot get its lock, gives up after
# lock_timeout and is retried on the next tick.
$node->safe_psql('app',
	"UPDATE wallet_ops.partition_config SET premake = 5 WHERE relid = 'ev'::regclass");
ok( $node->poll_query_until('app',
		"SELECT count(*) >= 2 FROM wallet_ops.job_log WHERE object = 'public.ev'"
		  . " AND outcome = 'skipped' AND sqlstate = '55P03'"),
	'maintenance is skipped after lock_timeout, and retried');
is( $node->safe_psql('app',
		"SELECT last_result FROM wallet_ops.partition_config WHERE relid = 'ev'::regclass"),
	'skipped', 'partition_config says so');

# Inserts meanwhile: an ACCESS EXCLUSIVE request queued behind the reader
# would make them wait as long as the reader lives; they must instead get
# through, at worst after the worker's short lock_timeout.
for my $i (1 .. 5)
{
	my ($ret, $stdout, $stderr) = $node->psql('app',
		"SET lock_timeout = '5s'; INSERT INTO ev (v) VALUES ($i)");
	is($ret, 0, "insert $i is not stuck behind maintenance");
}
is($node->safe_psql('app', 'SELECT count(*) FROM ev WHERE v IS NOT NULL'), '5',
	'all inserts went in');
is($node->safe_psql('app', $parts), '4', 'no partition made while the reader holds its lock');

# Once the reader is gone, the next tick does it.
$reader->query_safe('COMMIT');
$reader->quit;
ok($node->poll_query_until('app', $parts, '7'),
	'the skipped maintenance is done on a later tick');
ok( $node->poll_query_until('app',
		"SELECT last_result FROM wallet_ops.partition_config WHERE relid = 'ev'::regclass", 'ok'),
	'and recorded as ok');

$node->stop;
done_testing();
