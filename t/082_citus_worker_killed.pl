# A worker killed in the middle of a verification (docs/scale-out.md): a
# coordinator and two workers, verify_chain on the coordinator over a
# distributed table of 200 000 rows; one worker is stopped (immediate)
# while the coordinator waits for its shards.  The verification must fail
# with a clear error and report nothing, neither problems nor an intact
# table.  Skips when Citus is not installed (scripts/build-citus.sh).
#
# So that the kill lands mid-verification on any machine, a session on the
# worker holds a lock on one of its shards: that shard's verify_chain waits
# for it while the other shards are verified, and the worker is stopped
# once the wait is seen in its pg_locks.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use CitusCluster;

my ($coord, @workers) = CitusCluster::start('kill', 2);

$coord->safe_psql('postgres', q{
CREATE TABLE eh (entity_id int NOT NULL, amount numeric, memo text);
SELECT create_distributed_table('eh', 'entity_id', shard_count => 8);
SELECT wallet_ops.enable_hash_chain('eh', '{entity_id}');
INSERT INTO eh SELECT 1 + n % 2000, n * 0.01, 'memo ' || n FROM generate_series(1, 200000) n;
});
is($coord->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('eh')}),
	'0', 'intact while every worker answers');

# the worker to kill, and one of its shards
my $victim = $workers[0];
my $shard = $coord->safe_psql('postgres', sprintf(q{
SELECT shard_name('eh', shardid) FROM pg_dist_shard_placement
 WHERE nodeport = %d AND shardid IN (SELECT shardid FROM pg_dist_shard WHERE logicalrelid = 'eh'::regclass)
 ORDER BY shardid LIMIT 1}, $victim->port));
ok($shard ne '', "worker 1 holds shard $shard");

my $holder = $victim->background_psql('postgres', on_error_stop => 0);
$holder->query_safe("SET citus.enable_manual_changes_to_shards = on; BEGIN; LOCK TABLE $shard IN ACCESS EXCLUSIVE MODE");

# verify_chain on the coordinator, in the background
my ($out, $err) = ('', '');
my $verify = IPC::Run::start(
	[ $coord->installed_command('psql'), '-XAtq', '-d', $coord->connstr('postgres'), '-v', 'ON_ERROR_STOP=1',
	  '-c', q{SELECT chain_key || ' ' || chain_seq || ' ' || problem FROM wallet_ops.verify_chain('eh')},
	  '-c', q{SELECT 'done'} ],
	'>', \$out, '2>', \$err);

ok($victim->poll_query_until('postgres', qq{
SELECT count(*) > 0 FROM pg_locks WHERE NOT granted AND relation = '$shard'::regclass}),
	'the verification of a shard of worker 1 is under way');
$victim->stop('immediate');
eval { $holder->quit };

$verify->finish;
my $ret = $? >> 8;
note("stdout: $out\nstderr: $err");
isnt($ret, 0, 'verify_chain fails when a worker is killed during it');
like($err, qr/could not verify shard \d+ of table "eh"/, 'and says which shard it could not verify');
is($out, '', 'and reports nothing: no problem, no intact table');

# once the worker is back, the same table verifies clean again
$victim->start;
is($coord->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('eh')}),
	'0', 'with the worker back, verify_chain is clean');

$_->stop for ($coord, @workers);
done_testing();
