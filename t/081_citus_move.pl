# Hash-chained distributed tables across a shard move (docs/citus.md): a
# coordinator and two workers.  The heads stay on the node a shard leaves:
# inserts continue each chain from its last row, recover_shard_heads()
# records the others, and the digest taken before the move still holds.
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

$_->stop for ($coord, @workers);
done_testing();
