# verify_chain (serial and parallel), chain_digest and verify_against_digest are read-only: they
# run on a hot standby, see what the primary wrote, and find tampering done
# on the primary.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('chain_primary');
$primary->init(allows_streaming => 1, extra => ['--encoding=UTF8', '--locale=C']);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'wallet_ops'\nwallet_ops.naptime = 3600\n");
$primary->start;
$primary->safe_psql('postgres', q{
CREATE EXTENSION wallet_ops;
CREATE TABLE ledger (acct int NOT NULL, amount numeric, memo text);
SELECT wallet_ops.enable_hash_chain('ledger', '{acct}');
INSERT INTO ledger SELECT 1 + n % 7, n * 0.5, 'Zoë ' || n FROM generate_series(1, 500) n;
});
$primary->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('chain_standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->start;

$primary->safe_psql('postgres', q{INSERT INTO ledger SELECT 1 + n % 9, n, 'after backup' FROM generate_series(1, 50) n});
my $digest = $primary->safe_psql('postgres', q{SELECT wallet_ops.chain_digest('ledger')});
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'standby is in recovery');
is($standby->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('ledger')}),
	'0', 'verify_chain runs clean on the standby');
is($standby->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('ledger', '3')}),
	'0', 'one chain verifies on the standby');
is($standby->safe_psql('postgres', q{SELECT wallet_ops.chain_digest('ledger')->>'merkle_root'}),
	$primary->safe_psql('postgres', q{SELECT wallet_ops.chain_digest('ledger')->>'merkle_root'}),
	'the standby computes the primary\'s digest');
is($standby->safe_psql('postgres', qq{SELECT count(*) FROM wallet_ops.verify_against_digest('ledger', '$digest')}),
	'0', 'verify_against_digest runs clean on the standby');

$primary->safe_psql('postgres', q{SET client_min_messages = error; SELECT wallet_ops.release_append_only('ledger'); SET session_replication_role = replica; UPDATE ledger SET memo = 'Zoe 10' WHERE acct = 4 AND chain_seq = 2});
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', q{SELECT chain_key || ' ' || chain_seq || ' ' || problem FROM wallet_ops.verify_chain('ledger')}),
	'4 2 hash_mismatch', 'tampering on the primary is found on the standby');
is( $standby->safe_psql('postgres', q{
SELECT chain_key || ' ' || chain_seq || ' ' || problem FROM wallet_ops.verify_chain('ledger', NULL, 2)}),
	'4 2 hash_mismatch', 'and by parallel workers on the standby');

$standby->stop;
$primary->stop;
done_testing();
