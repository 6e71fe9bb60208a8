# Partitions and materialised views over Citus tables (docs/scale-out.md):
# a coordinator and one worker.  manage_partitions of a distributed
# time-partitioned table is refused (WO012) in favour of Citus's own
# create_time_partitions(), and so is maintaining a table distributed after
# it was managed; manage_matview with on_change of a view reading a
# distributed table is refused (WO013), and with refresh_every the view is
# refreshed on the coordinator through Citus.  Skips when Citus is not
# installed (scripts/build-citus.sh).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use CitusCluster;

my ($coord, $worker) = CitusCluster::start('parts', 1);

# ---- manage_partitions -----------------------------------------------------
$coord->safe_psql('postgres', q{
CREATE TABLE ev (entity_id int NOT NULL, at timestamptz NOT NULL, memo text) PARTITION BY RANGE (at);
SELECT create_distributed_table('ev', 'entity_id', shard_count => 4);
});
my ($ret, $out, $err) = $coord->psql('postgres', q{
\set VERBOSITY verbose
SELECT * FROM wallet_ops.manage_partitions('ev', 'month')});
like($err, qr/WO012: cannot manage the partitions of Citus table "ev"/,
	'manage_partitions of a distributed table: refused (WO012)');
like($err, qr/HINT:  Use Citus's create_time_partitions\(\)/, 'pointing at create_time_partitions()');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.partition_config}),
	'0', 'and nothing is managed');

# what the hint says works: Citus makes and distributes the partitions
is($coord->safe_psql('postgres', q{
SELECT create_time_partitions('ev', '1 month', now() + interval '3 months', now())}),
	't', 'create_time_partitions() makes them instead');
$coord->safe_psql('postgres', q{INSERT INTO ev VALUES (1, now(), 'x')});
is($coord->safe_psql('postgres', q{
SELECT count(*) FROM pg_inherits i JOIN pg_dist_partition p ON p.logicalrelid = i.inhrelid
 WHERE i.inhparent = 'ev'::regclass}),
	$coord->safe_psql('postgres', q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'ev'::regclass}),
	'every partition is distributed by Citus');

# managed first, distributed after: maintenance fails for that table,
# with the same refusal, and touches nothing
$coord->safe_psql('postgres', q{
CREATE TABLE ev2 (entity_id int NOT NULL, at timestamptz NOT NULL, memo text) PARTITION BY RANGE (at);
SELECT count(*) FROM wallet_ops.manage_partitions('ev2', 'month');
});
my $parts = $coord->safe_psql('postgres', q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'ev2'::regclass});
$coord->safe_psql('postgres', q{SELECT create_distributed_table('ev2', 'entity_id', shard_count => 4)});
like($coord->safe_psql('postgres', q{
SELECT string_agg(action || ': ' || coalesce(detail, ''), ', ') FROM wallet_ops.run_maintenance('ev2')}),
	qr/^failed: .*cannot manage the partitions of Citus table "ev2"/,
	'a managed table distributed afterwards: maintenance fails with the refusal');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'ev2'::regclass}),
	$parts, 'and its partitions are as they were');

# ---- manage_matview ----------------------------------------------------------
$coord->safe_psql('postgres', q{
CREATE TABLE src (entity_id int NOT NULL, amount numeric);
SELECT create_distributed_table('src', 'entity_id', shard_count => 4);
INSERT INTO src SELECT n % 10, n FROM generate_series(1, 100) n;
CREATE MATERIALIZED VIEW mv AS SELECT entity_id, sum(amount) total FROM src GROUP BY entity_id;
CREATE UNIQUE INDEX ON mv (entity_id);
});
($ret, $out, $err) = $coord->psql('postgres', q{
\set VERBOSITY verbose
SELECT wallet_ops.manage_matview('mv')});
like($err, qr/WO013: cannot watch Citus table "public.src" read by materialized view "public.mv"/,
	'manage_matview on_change over a distributed table: refused (WO013)');
is($coord->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM wallet_ops.matviews) + (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'src'::regclass AND tgname LIKE 'wallet_ops%')}),
	'0', 'leaving no configuration and no trigger behind');

$coord->safe_psql('postgres', q{
SELECT wallet_ops.manage_matview('mv', refresh_every => '2 hours', on_change => false);
INSERT INTO src SELECT 10 + n % 5, n FROM generate_series(1, 50) n;
});
is($coord->safe_psql('postgres', q{SELECT string_agg(action, ',') FROM wallet_ops.run_maintenance('mv')}),
	'refresh', 'with refresh_every, maintenance refreshes it on the coordinator');
is($coord->safe_psql('postgres', q{SELECT count(*) || ' ' || sum(total) FROM mv}),
	'15 6325', 'and it holds the distributed rows');

$_->stop for ($coord, $worker);
done_testing();
