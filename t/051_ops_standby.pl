# Audits away from the primary: on a streaming hot standby verify_chain,
# verify_since_digest and replay run read-only, health() and status work
# (the worker waits for promotion: not a failure), and the progress of a
# long verification is visible from another session.  After the standby is
# promoted its worker starts, runs the scheduled verification and health()
# is ok.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('ops_primary');
$primary->init(allows_streaming => 1, extra => ['--encoding=UTF8', '--locale=C']);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'wallet_ops'
wallet_ops.naptime = 1
});
$primary->start;
$primary->safe_psql('postgres', q{
CREATE EXTENSION wallet_ops;
CREATE TABLE entity_history (
    history_id bigint GENERATED ALWAYS AS IDENTITY,
    entity_id  int NOT NULL,
    payload    jsonb NOT NULL,
    changed_at timestamptz NOT NULL
) PARTITION BY RANGE (changed_at);
SELECT count(*) FROM wallet_ops.manage_partitions('entity_history', 'month');
SELECT wallet_ops.enable_hash_chain('entity_history', '{entity_id}');
INSERT INTO entity_history (entity_id, payload, changed_at)
SELECT n % 50, jsonb_build_object('n', n), now() - interval '1 hour' + n * interval '1 millisecond'
  FROM generate_series(1, 200000) n;
SELECT wallet_ops.schedule_verification('entity_history', '1 hour');
});
ok( $primary->poll_query_until('postgres',
		q{SELECT last_result FROM wallet_ops.status WHERE object = 'public.entity_history' AND kind = 'hash_chain'}, 'ok'),
	'the primary\'s worker verified the table');
my $digest = $primary->safe_psql('postgres', q{SELECT wallet_ops.chain_digest('entity_history')});

$primary->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('ops_standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->start;
$primary->safe_psql('postgres', q{
INSERT INTO entity_history (entity_id, payload, changed_at)
SELECT n % 60, '{"later": true}', now() FROM generate_series(1, 2000) n;
});
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'standby is in recovery');
is($standby->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('entity_history')}),
	'0', 'verify_chain runs clean on the standby');
is( $standby->safe_psql('postgres',
		qq{SELECT count(*) FROM wallet_ops.verify_since_digest('entity_history', '$digest')}),
	'0', 'the incremental verification since a digest runs on the standby');
is( $standby->safe_psql('postgres',
		q{SELECT count(*) FROM wallet_ops.replay('entity_history')}),
	'60', 'replay runs on the standby: one row per chain');
is($standby->safe_psql('postgres', q{SELECT wallet_ops.health()->>'status'}), 'ok',
	'health() is ok on the standby');
like( $standby->safe_psql('postgres',
		q{SELECT c->>'detail' FROM jsonb_array_elements(wallet_ops.health()->'checks') c WHERE c->>'check' = 'worker'}),
	qr/hot standby: the worker starts when this server is promoted/,
	'the worker check says the worker waits for promotion');
like($standby->safe_psql('postgres', q{SELECT wallet_ops.metrics()}),
	qr/^wallet_ops_up 1$/m, 'metrics() runs on the standby');
is( $standby->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'wallet_ops worker'}),
	'0', 'no worker runs on the standby');

# a long verification, watched from another session
my ($out, $err) = ('', '');
my $h = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $standby->connstr('postgres'), '-c',
	  q{SELECT count(*) FROM wallet_ops.verify_chain('entity_history'); SELECT count(*) FROM wallet_ops.verify_chain('entity_history'); SELECT count(*) FROM wallet_ops.verify_chain('entity_history')} ],
	'>', \$out, '2>', \$err);
my $seen = '';
for (my $i = 0; $i < 600 && $seen eq ''; $i++)
{
	$seen = $standby->safe_psql('postgres',
		q{SELECT progress FROM wallet_ops.verification_progress WHERE progress ~ '[1-9][0-9]* rows checked' LIMIT 1});
	last unless $h->pumpable;
}
$h->finish;
like($seen, qr/^wallet_ops\.verify_chain\(entity_history\): partition \d+ of \d+ \(entity_history_\w+\), [1-9]\d* rows checked$/,
	'another session sees the progress of the verification in wallet_ops.verification_progress');

# promotion: the pool starts, the scheduled verification runs, health ok
$standby->promote;
ok( $standby->poll_query_until('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'wallet_ops launcher'}, '1'),
	'after promotion the launcher runs');
ok($standby->poll_query_until('postgres', q{SELECT ticks > 0 FROM wallet_ops.worker_state}),
	'and a worker ticks in the database');
$standby->safe_psql('postgres', q{SELECT wallet_ops.schedule_verification('entity_history', '1 second')});
ok( $standby->poll_query_until('postgres',
		q{SELECT count(*) > 0 FROM wallet_ops.job_log WHERE object = 'public.entity_history'
		   AND kind = 'hash_chain' AND started_at > (SELECT pg_postmaster_start_time())
		   AND outcome = 'ok'}),
	'the promoted server\'s worker runs the scheduled verification');
ok($standby->poll_query_until('postgres', q{SELECT wallet_ops.health()->>'status'}, 'ok'),
	'health() is ok after promotion');
is( $standby->safe_psql('postgres',
		q{SELECT count(*) FROM jsonb_array_elements(wallet_ops.health()->'checks') c WHERE c->>'status' <> 'ok'}),
	'0', 'every check is ok');

$standby->stop;
$primary->stop;
done_testing();
