# Hash-chained distributed tables across a shard move, a shard split and a
# rebalance (docs/citus.md): a coordinator and two workers.  The heads stay
# on the node a shard leaves: inserts continue each chain from its last
# row, recover_shard_heads() records the others, and the digest taken
# before the move still holds after the move, after
# citus_split_shard_by_split_points and after the rebalancer drained a
# worker and spread the shards again (block_writes); a row changed on a
# worker after all that is still found.
# Skips when Citus is not installed (scripts/build-citus.sh).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use CitusCluster;

my ($coord, @workers) = CitusCluster::start('move', 2);

$coord->safe_psql('postgres', q{
CREATE TABLE eh (entity_id int NOT NULL, amount numeric, memo text);
SELECT create_distributed_table('eh', 'entity_id', shard_count => 4);
SELECT wallet_ops.enable_hash_chain('eh', '{entity_id}');
INSERT INTO eh SELECT 1 + n % 9, n * 0.25, 'Zoë ' || n FROM generate_series(1, 90) n;
});
my $d1 = $coord->safe_psql('postgres', q{SELECT wallet_ops.chain_digest('eh')});
is($coord->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('eh')}), '0', 'intact before the move');

# move the shard of entity 3 to the other worker
my $shard = $coord->safe_psql('postgres', q{SELECT get_shard_id_for_distribution_column('eh', 3)});
my $port = $coord->safe_psql('postgres', qq{SELECT nodeport FROM pg_dist_shard_placement WHERE shardid = $shard});
my ($from, $to) = $port == $workers[0]->port ? @workers : reverse @workers;
$coord->safe_psql('postgres', sprintf(
	q{SELECT citus_move_shard_placement(%d, '%s', %d, '%s', %d, shard_transfer_mode => 'block_writes')},
	$shard, $from->host, $from->port, $to->host, $to->port));
is($coord->safe_psql('postgres', qq{SELECT nodeport FROM pg_dist_shard_placement WHERE shardid = $shard}),
	$to->port, 'the shard moved to the other worker');

# an insert continues its chain from the last row the shard brought along,
# also when the role may only insert
$coord->safe_psql('postgres', q{
CREATE ROLE ingest LOGIN;
SELECT wallet_ops.grant_ingest('eh', 'ingest');
});
$coord->safe_psql('postgres', q{SET ROLE ingest; INSERT INTO eh VALUES (3, 1, 'after the move'), (3, 2, 'after the move')});
is($coord->safe_psql('postgres', q{
SELECT count(*) || ' ' || max(chain_seq) || ' ' || count(DISTINCT chain_seq) FROM eh WHERE entity_id = 3}),
	'12 12 12', 'after the move the chain continues: no fork');

# the other chains of the moved shard have no head on their new node
my $others = $coord->safe_psql('postgres', qq{
SELECT count(DISTINCT entity_id) FROM eh
 WHERE get_shard_id_for_distribution_column('eh', entity_id) = $shard AND entity_id <> 3});
ok($others > 0, "the moved shard holds $others other chains");
like($coord->safe_psql('postgres', q{SELECT string_agg(DISTINCT problem, ',') FROM wallet_ops.verify_chain('eh')}),
	qr/^head_mismatch$/, 'before recovery, verify_chain says their heads are missing');
is($coord->safe_psql('postgres', q{SELECT wallet_ops.recover_shard_heads('eh')}),
	$others, 'recover_shard_heads records them');
is($coord->safe_psql('postgres', q{SELECT wallet_ops.recover_shard_heads('eh')}),
	'0', 'and a second call finds nothing to do');

is($coord->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('eh')}),
	'0', 'verify_chain: intact after the move');
is($coord->safe_psql('postgres', qq{SELECT count(*) FROM wallet_ops.verify_against_digest('eh', '$d1')}),
	'0', 'the digest taken before the move still holds');

# the digest after the move is that of the same rows on one node
my $out = $coord->safe_psql('postgres', q{
CREATE TABLE single (entity_id int NOT NULL, amount numeric, memo text);
SELECT wallet_ops.enable_hash_chain('single', '{entity_id}');
INSERT INTO single SELECT entity_id, amount, memo FROM eh ORDER BY entity_id, chain_seq;
SELECT (SELECT wallet_ops.chain_digest('eh')->>'merkle_root') = (SELECT wallet_ops.chain_digest('single')->>'merkle_root');
});
is((split /\n/, $out)[-1], 't', 'chain_digest after the move equals that of the same rows on one node');

# the shards of eh and where they are
sub layout
{
	return $coord->safe_psql('postgres', q{
SELECT string_agg(s.shardid || '@' || p.nodeport, ' ' ORDER BY s.shardminvalue::int)
  FROM pg_dist_shard s JOIN pg_dist_shard_placement p USING (shardid)
 WHERE s.logicalrelid = 'eh'::regclass});
}

# ---- split the shard that holds the most chains, in two, one half on
# each worker
my ($min, $max);
($shard, $min, $max) = split /\|/, $coord->safe_psql('postgres', q{
WITH c AS MATERIALIZED (
  SELECT get_shard_id_for_distribution_column('eh', entity_id) shardid, count(DISTINCT entity_id) n
    FROM eh GROUP BY 1)
SELECT s.shardid, s.shardminvalue, s.shardmaxvalue FROM pg_dist_shard s JOIN c USING (shardid)
 ORDER BY c.n DESC, s.shardid LIMIT 1});
my $chains_split = $coord->safe_psql('postgres', qq{
SELECT string_agg(DISTINCT entity_id::text, ',') FROM eh
 WHERE get_shard_id_for_distribution_column('eh', entity_id) = $shard});
# a split point between the chains' hashes, so that both halves hold some
my $point = $coord->safe_psql('postgres', qq{
SELECT (h[n / 2] + h[n / 2 + 1]) / 2 FROM (
  SELECT array_agg(DISTINCT worker_hash(entity_id)::bigint ORDER BY worker_hash(entity_id)::bigint) h,
         count(DISTINCT entity_id)::int n
    FROM eh WHERE get_shard_id_for_distribution_column('eh', entity_id) = $shard) x});
my $nodes = $coord->safe_psql('postgres', q{
SELECT string_agg(nodeid::text, ',' ORDER BY nodeport) FROM pg_dist_node WHERE shouldhaveshards});
$coord->safe_psql('postgres', qq{
SELECT citus_split_shard_by_split_points($shard, ARRAY['$point'], ARRAY[$nodes],
                                         shard_transfer_mode => 'block_writes')});
is($coord->safe_psql('postgres', q{SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'eh'::regclass}),
	'5', "shard $shard (chains $chains_split) split in two");
ok($coord->safe_psql('postgres', qq{
SELECT count(DISTINCT get_shard_id_for_distribution_column('eh', entity_id)) FROM eh
 WHERE entity_id IN ($chains_split)}) == 2, 'its chains are now on the two new shards');
is($coord->safe_psql('postgres', q{SELECT count(*) || ' ' || count(DISTINCT (entity_id, chain_seq)) FROM eh}),
	'92 92', 'every row is still there, once');

# the new shards have no heads: recovered from their last rows
ok($coord->safe_psql('postgres', q{SELECT wallet_ops.recover_shard_heads('eh')}) > 0,
	'recover_shard_heads records the heads of the split chains');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('eh')}),
	'0', 'verify_chain: intact after the split');
is($coord->safe_psql('postgres', qq{SELECT count(*) FROM wallet_ops.verify_against_digest('eh', '$d1')}),
	'0', 'the digest taken before the split still holds');

# ---- a rebalance: drain the first worker (its shards move to the
# other), then let the rebalancer spread them again
my $before = layout();
$coord->safe_psql('postgres', sprintf(
	q{SELECT citus_drain_node('%s', %d, shard_transfer_mode => 'block_writes')},
	$workers[0]->host, $workers[0]->port));
is($coord->safe_psql('postgres', q{
SELECT count(DISTINCT p.nodeport) || ' ' || min(p.nodeport) FROM pg_dist_shard s JOIN pg_dist_shard_placement p USING (shardid)
 WHERE s.logicalrelid = 'eh'::regclass}),
	'1 ' . $workers[1]->port, 'the rebalancer drained the first worker');
$coord->safe_psql('postgres', sprintf(q{
SELECT citus_set_node_property('%s', %d, 'shouldhaveshards', true);
SELECT rebalance_table_shards('eh', shard_transfer_mode => 'block_writes');},
	$workers[0]->host, $workers[0]->port));
is($coord->safe_psql('postgres', q{
SELECT count(DISTINCT p.nodeport) FROM pg_dist_shard s JOIN pg_dist_shard_placement p USING (shardid)
 WHERE s.logicalrelid = 'eh'::regclass}),
	'2', 'and rebalance_table_shards spread them over both again');
my $after = layout();
isnt($after, $before, "shards were moved (before: $before; after: $after)");

# inserts after the moves continue their chains, before any recovery
my $chain_tops = qq{
SELECT string_agg(entity_id || ':' || top || ':' || n || ':' || seqs, ' ' ORDER BY entity_id) FROM (
  SELECT entity_id, max(chain_seq) top, count(*) n, count(DISTINCT chain_seq) seqs FROM eh
   WHERE entity_id IN ($chains_split) GROUP BY entity_id) c};
(my $expected = $coord->safe_psql('postgres', $chain_tops)) =~ s/(\d+):(\d+):(\d+):(\d+)/"$1:" . ($2 + 2) . ':' . ($3 + 2) . ':' . ($4 + 2)/ge;
$coord->safe_psql('postgres', qq{
INSERT INTO eh SELECT e, 1, 'after the rebalance' FROM unnest(ARRAY[$chains_split]) e, generate_series(1, 2)});
is($coord->safe_psql('postgres', $chain_tops), $expected,
	'inserts after the split and the rebalance continue each chain (chain:last seq:rows:distinct seqs), no fork');

$coord->safe_psql('postgres', q{SELECT wallet_ops.recover_shard_heads('eh')});
is($coord->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('eh')}),
	'0', 'verify_chain: intact after the rebalance');
is($coord->safe_psql('postgres', qq{SELECT count(*) FROM wallet_ops.verify_against_digest('eh', '$d1')}),
	'0', 'the digest taken before the split and the rebalance still holds');

# and the digest is that of the same rows on one node
$out = $coord->safe_psql('postgres', q{
CREATE TABLE single2 (entity_id int NOT NULL, amount numeric, memo text);
SELECT wallet_ops.enable_hash_chain('single2', '{entity_id}');
INSERT INTO single2 SELECT entity_id, amount, memo FROM eh ORDER BY entity_id, chain_seq;
SELECT (SELECT wallet_ops.chain_digest('eh')->>'merkle_root') = (SELECT wallet_ops.chain_digest('single2')->>'merkle_root');
});
is((split /\n/, $out)[-1], 't', 'chain_digest after both equals that of the same rows on one node');

# a row changed on a worker after all this is still found
my $victim = (split /,/, $chains_split)[0];
my $vshard = $coord->safe_psql('postgres', qq{SELECT get_shard_id_for_distribution_column('eh', $victim)});
my $vport = $coord->safe_psql('postgres', qq{SELECT nodeport FROM pg_dist_shard_placement WHERE shardid = $vshard});
my ($w) = grep { $_->port == $vport } @workers;
my $guards = $w->safe_psql('postgres', qq{
SELECT string_agg(format('ALTER TABLE eh_$vshard DISABLE TRIGGER %I', tgname), '; ')
  FROM pg_trigger WHERE tgrelid = 'eh_$vshard'::regclass AND tgname LIKE 'wallet_ops_append_only%'});
$w->safe_psql('postgres', qq{
$guards;
UPDATE eh_$vshard SET amount = amount + 1 WHERE entity_id = $victim AND chain_seq = 4});
like($coord->safe_psql('postgres', qq{
SELECT string_agg(chain_key || ':' || chain_seq || ':' || problem, ',') FROM wallet_ops.verify_chain('eh')}),
	qr/^$victim:4:/, 'a row changed on a worker afterwards is reported at its chain and seq');

$_->stop for ($coord, @workers);
done_testing();
