# Partitions and materialised views over Citus tables (docs/citus.md,
# docs/scale-out.md): a coordinator and two workers.  manage_partitions of
# a distributed time-partitioned table makes its partitions on the
# coordinator, Citus distributes them onto the workers, and retention drops
# them there too; a managed table distributed afterwards keeps being
# maintained; a Citus-local table is refused (WO012), and rows to be moved
# out of the default partition of a distributed table stop its maintenance
# (WO014) with every row left where it was.  The time of maintenance is
# fixed (_manage_partitions_at, _run_maintenance_at).  manage_matview with
# on_change of a view reading a distributed table is refused (WO013), and
# with refresh_every the view is refreshed on the coordinator through
# Citus.  Skips when Citus is not installed (scripts/build-citus.sh).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use CitusCluster;

my ($coord, @workers) = CitusCluster::start('parts', 2);

# ---- manage_partitions -----------------------------------------------------

# the shard tables of the partitions named like pattern on one worker, and
# their rows there (shards are hidden from pg_class unless asked), as
# (shards, rows)
sub shards_on
{
	my ($node, $pattern) = @_;
	return split / /, $node->safe_psql('postgres', qq{
SET citus.override_table_visibility = off;
SELECT count(*) || ' ' || coalesce(sum((xpath('/row/n/text()',
         query_to_xml(format('SELECT count(*) AS n FROM %I', relname), false, true, '')))[1]::text::int), 0)
  FROM pg_class WHERE relkind = 'r' AND relname ~ '$pattern'});
}

# the partitions of a table on the coordinator, and how many of them Citus
# distributed (with their shards)
sub partitions_of
{
	my ($table) = @_;
	return $coord->safe_psql('postgres', qq{
SELECT count(*) || ' ' || count(p.logicalrelid) || ' ' || coalesce(sum((SELECT count(*) FROM pg_dist_shard s WHERE s.logicalrelid = i.inhrelid)), 0)
  FROM pg_inherits i LEFT JOIN pg_dist_partition p ON p.logicalrelid = i.inhrelid
 WHERE i.inhparent = '$table'::regclass});
}

$coord->safe_psql('postgres', q{
CREATE TABLE ev (entity_id int NOT NULL, at timestamptz NOT NULL, memo text) PARTITION BY RANGE (at);
SELECT create_distributed_table('ev', 'entity_id', shard_count => 4);
SELECT wallet_ops.enforce_append_only('ev');
});
is($coord->safe_psql('postgres', q{
SELECT string_agg(object || ' ' || action, ', ' ORDER BY object)
  FROM wallet_ops._manage_partitions_at('ev', 'month', 2, NULL, 'UTC', false, '2026-03-15')}),
	'public.ev_2026_03 created, public.ev_2026_04 created, public.ev_2026_05 created, public.ev_default created',
	'manage_partitions of a distributed table: three months and the default partition made');
is(partitions_of('ev'), '4 4 16', 'every partition is distributed by Citus, 4 shards each');
is(join('+', map { (shards_on($_, '^ev_(2026_0[345]|default)_[0-9]+$'))[0] } @workers), '8+8',
	'their 16 shards are on the two workers');

# rows inserted through the coordinator land in the shards of their month
$coord->safe_psql('postgres', q{
INSERT INTO ev SELECT n, timestamptz '2026-03-01 00:00+00' + n * interval '6 hours', 'r' || n
  FROM generate_series(0, 239) n});
is($coord->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM ev_2026_03) || ' ' || (SELECT count(*) FROM ev_2026_04) || ' ' || (SELECT count(*) FROM ev_default)}),
	'124 116 0', 'inserted through the coordinator, rows go to their month');
my @rows = map { (shards_on($_, '^ev_2026_03_[0-9]+$'))[1] } @workers;
is($rows[0] + $rows[1], 124, 'and are stored on the workers, in the shards of that partition');
ok($rows[0] > 0 && $rows[1] > 0, "on both workers ($rows[0] and $rows[1] rows)");

# the append-only guard went onto the new partitions' shards with them
my ($ret, $out, $err) = $coord->psql('postgres', q{UPDATE ev SET memo = 'x' WHERE entity_id = 5});
like($err, qr/cannot update append-only table "ev/, 'the new partitions are append-only on the workers');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM ev WHERE memo = 'x'}), '0', 'nothing was updated');

# maintenance two months later makes the new months, distributed
is($coord->safe_psql('postgres', q{
SELECT string_agg(object || ' ' || action, ', ' ORDER BY object)
  FROM wallet_ops._run_maintenance_at('ev', '2026-05-15')}),
	'public.ev_2026_06 created, public.ev_2026_07 created', 'maintenance makes the new months');
is(partitions_of('ev'), '6 6 24', 'distributed too');
is(join('+', map { (shards_on($_, '^ev_2026_0[67]_[0-9]+$'))[0] } @workers), '4+4',
	'with their shards on the workers');
$coord->safe_psql('postgres', q{INSERT INTO ev VALUES (7, '2026-07-30 12:00+00', 'late')});
is($coord->safe_psql('postgres', q{SELECT count(*) FROM ev_2026_07}), '1',
	'a row of the last month made lands in its partition');

# a retention on an append-only distributed table is refused: Citus would
# drop the partitions on the workers, where they are guarded
($ret, $out, $err) = $coord->psql('postgres', q{
\set VERBOSITY verbose
SELECT wallet_ops.unmanage_partitions('ev');
SELECT * FROM wallet_ops.manage_partitions('ev', 'month', 2, '2 months')});
like($err, qr/WO015: cannot remove old partitions of append-only distributed table "ev"/,
	'a retention on an append-only distributed table: refused (WO015)');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.partition_config}), '0',
	'and it is not managed with one');
$coord->safe_psql('postgres', q{
SELECT count(*) FROM wallet_ops._manage_partitions_at('ev', 'month', 2, NULL, 'UTC', false, '2026-05-15')});

# a row beyond the partitions made goes to the default partition; when its
# month is due, it cannot be moved out on the workers: the maintenance of
# that table fails (WO014) and leaves every partition and row as it was
$coord->safe_psql('postgres', q{INSERT INTO ev VALUES (8, '2026-09-02 00:00+00', 'early')});
my $before = partitions_of('ev');
($ret, $out, $err) = $coord->psql('postgres', q{
SELECT action, detail FROM wallet_ops._run_maintenance_at('ev', '2026-07-15')});
like($out, qr/^failed\|cannot move rows out of the default partition of distributed table "ev"/m,
	'rows to move out of the default partition: maintenance of the table fails');
is($coord->safe_psql('postgres', q{
SELECT sqlstate FROM wallet_ops.job_log WHERE outcome = 'error' ORDER BY job_id DESC LIMIT 1}),
	'WO014', 'recorded with WO014');
is(partitions_of('ev'), $before, 'no partition was made or dropped');
is($coord->safe_psql('postgres', q{
SELECT (SELECT string_agg(memo, ',') FROM ev_default) || ' ' || (SELECT string_agg(memo, ',') FROM ev_2026_07)}),
	'early late', 'and the rows are where they were');

# managed first, distributed after: maintained as a distributed table,
# with a retention
$coord->safe_psql('postgres', q{
CREATE TABLE ev2 (entity_id int NOT NULL, at timestamptz NOT NULL, memo text) PARTITION BY RANGE (at);
SELECT count(*) FROM wallet_ops._manage_partitions_at('ev2', 'month', 1, '1 month', 'UTC', false, '2026-03-15');
SELECT create_distributed_table('ev2', 'entity_id', shard_count => 4);
INSERT INTO ev2 VALUES (1, '2026-03-02', 'm'), (2, '2026-04-02', 'a');
});
is(partitions_of('ev2'), '3 3 12', 'a managed table distributed afterwards: its partitions are distributed');
is($coord->safe_psql('postgres', q{
SELECT string_agg(object || ' ' || action, ', ' ORDER BY action, object)
  FROM wallet_ops._run_maintenance_at('ev2', '2026-05-15')}),
	'public.ev2_2026_05 created, public.ev2_2026_06 created, public.ev2_2026_03 dropped',
	'maintenance goes on making partitions and drops those beyond the retention');
is(partitions_of('ev2'), '4 4 16', 'the new ones distributed too');
is(join(' ', map { shards_on($_, '^ev2_2026_03_[0-9]+$') } @workers), '0 0 0 0',
	'the dropped partition\'s shards are gone from both workers');
is(join('+', map { (shards_on($_, '^ev2_2026_0[56]_[0-9]+$'))[0] } @workers), '4+4',
	'the new months\' shards are on the workers');
is($coord->safe_psql('postgres', q{SELECT string_agg(memo, ',') FROM ev2}), 'a', 'with the old row gone');

# made append-only after it was managed with a retention: when old
# partitions are due, its maintenance fails (WO015) and drops nothing
$coord->safe_psql('postgres', q{
SELECT wallet_ops.enforce_append_only('ev2');
INSERT INTO ev2 VALUES (3, '2026-04-03', 'b');
});
$before = partitions_of('ev2');
is($coord->safe_psql('postgres', q{
SELECT action || ': ' || detail FROM wallet_ops._run_maintenance_at('ev2', '2026-06-15')}),
	'failed: cannot remove old partitions of append-only distributed table "ev2"',
	'append-only after it was managed with a retention: maintenance fails');
is($coord->safe_psql('postgres', q{
SELECT sqlstate FROM wallet_ops.job_log WHERE outcome = 'error' ORDER BY job_id DESC LIMIT 1}),
	'WO015', 'recorded with WO015');
is(partitions_of('ev2') . ' ' . $coord->safe_psql('postgres', q{SELECT string_agg(memo, ',' ORDER BY memo) FROM ev2}),
	"$before a,b", 'no partition made or dropped, no row lost');

# with keep_detached, an old partition is detached: Citus keeps it as a
# distributed table of its own, rows included
$coord->safe_psql('postgres', q{
CREATE TABLE ev3 (entity_id int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
SELECT create_distributed_table('ev3', 'entity_id', shard_count => 4);
SELECT count(*) FROM wallet_ops._manage_partitions_at('ev3', 'month', 1, '1 month', 'UTC', true, '2026-03-15');
INSERT INTO ev3 VALUES (1, '2026-03-02'), (2, '2026-03-03');
});
is($coord->safe_psql('postgres', q{
SELECT string_agg(object || ' ' || action, ', ' ORDER BY action, object)
  FROM wallet_ops._run_maintenance_at('ev3', '2026-05-15')}),
	'public.ev3_2026_05 created, public.ev3_2026_06 created, public.ev3_2026_03 detached',
	'keep_detached: the old partition is detached');
is($coord->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM ev3_2026_03) || ' ' || (SELECT count(*) FROM ev3) || ' ' ||
       EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'ev3_2026_03'::regclass)}),
	'2 0 true', 'and keeps its rows on the workers as a distributed table of its own');

# a Citus-local table: refused, nothing managed
$coord->safe_psql('postgres', q{
CREATE TABLE loc (entity_id int NOT NULL, at timestamptz NOT NULL) PARTITION BY RANGE (at);
SELECT citus_add_local_table_to_metadata('loc');
});
($ret, $out, $err) = $coord->psql('postgres', q{
\set VERBOSITY verbose
SELECT * FROM wallet_ops.manage_partitions('loc', 'month')});
like($err, qr/WO012: cannot manage the partitions of Citus table "loc"/,
	'manage_partitions of a Citus-local table: refused (WO012)');
is($coord->safe_psql('postgres', q{
SELECT count(*) FROM wallet_ops.partition_config WHERE relid = 'loc'::regclass}),
	'0', 'and it is not managed');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'loc'::regclass}),
	'0', 'nor given partitions');

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

$_->stop for ($coord, @workers);
done_testing();
