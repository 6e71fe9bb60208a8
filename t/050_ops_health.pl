# What on-call engineers look at, with a real worker: a scheduled
# verification run by the worker finds a tampered row, records it in
# job_log, says so at WARNING in the server log and turns health()
# critical; metrics() is read by Prometheus' own parser (python3
# prometheus_client, when installed); the worker purges job_log after
# wallet_ops.job_log_retention; wallet_ops.enabled = off is a warning; a
# server without wallet_ops in shared_preload_libraries is critical and
# says why.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('ops_health');
$node->init(extra => ['--encoding=UTF8', '--locale=C']);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'wallet_ops'
wallet_ops.naptime = 1
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION wallet_ops;
CREATE TABLE entity_history (
    history_id bigint GENERATED ALWAYS AS IDENTITY,
    entity_id  int NOT NULL,
    payload    jsonb NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
SELECT wallet_ops.enable_hash_chain('entity_history', '{entity_id}');
INSERT INTO entity_history (entity_id, payload)
SELECT n % 20, jsonb_build_object('n', n, 'name', 'Zoë "' || n || '"') FROM generate_series(1, 2000) n;
SELECT wallet_ops.schedule_verification('entity_history', '1 second');
});

ok( $node->poll_query_until('postgres',
		q{SELECT count(*) > 0 FROM wallet_ops.job_log WHERE object = 'public.entity_history' AND outcome = 'ok'}),
	'the worker runs the scheduled verification');
ok( $node->poll_query_until('postgres', q{SELECT wallet_ops.health()->>'status'}, 'ok'),
	'health() is ok with the worker running and the chain verified clean');

# incremental runs follow the first, full one
$node->safe_psql('postgres',
	q{INSERT INTO entity_history (entity_id, payload) SELECT n % 25, '{"more": true}' FROM generate_series(1, 50) n});
ok( $node->poll_query_until('postgres',
		q{SELECT count(*) > 0 FROM wallet_ops.job_log WHERE object = 'public.entity_history'
		   AND action = 'verify incremental' AND detail LIKE '%rows read, no problems'}),
	'later scheduled runs are incremental');

# tampering with a row added since the last clean verification
my $log_offset = -s $node->logfile;
$node->safe_psql('postgres',
	q{INSERT INTO entity_history (entity_id, payload) SELECT n % 3, '{"late": true}' FROM generate_series(1, 9) n});
$node->safe_psql('postgres', q{
SELECT wallet_ops.release_append_only('entity_history');
SET session_replication_role = replica;
UPDATE entity_history SET payload = '{"late": false}' WHERE entity_id = 1 AND payload = '{"late": true}';
});
ok( $node->poll_query_until('postgres',
		q{SELECT count(*) > 0 FROM wallet_ops.job_log WHERE object = 'public.entity_history' AND outcome = 'problems'}),
	'a scheduled verification finds the tampered rows and records "problems" in job_log');
is($node->safe_psql('postgres', q{SELECT wallet_ops.health()->>'status'}), 'critical',
	'health() is critical');
is( $node->safe_psql('postgres',
		q{SELECT c->>'check' || ' ' || (c->>'object') FROM jsonb_array_elements(wallet_ops.health()->'checks') c
		   WHERE c->>'status' = 'critical'}),
	'verification public.entity_history',
	'the critical check is the verification of entity_history');
ok( $node->wait_for_log(
		qr/WARNING:  hash chain verification of table "public\.entity_history" found \d+ problems/,
		$log_offset),
	'the problems are reported at WARNING in the server log');
like($node->safe_psql('postgres', q{SELECT wallet_ops.metrics()}),
	qr/^wallet_ops_chain_problems\{table="public\.entity_history"\} [1-9]\d*$/m,
	'metrics() reports the problems');
like($node->safe_psql('postgres', q{SELECT wallet_ops.metrics()}),
	qr/^wallet_ops_health_status 2$/m, 'metrics(): wallet_ops_health_status 2');

# Prometheus' parser rules, applied by its client library
my $metrics = $node->safe_psql('postgres', q{SELECT wallet_ops.metrics()});
my $python = '/usr/bin/python3';
SKIP:
{
	skip 'python3 with prometheus_client is not installed', 2
	  unless -x $python
	  && system($python, '-c', 'import prometheus_client.parser') == 0;
	my ($stdout, $stderr);
	my $script = q{
import sys
from prometheus_client.parser import text_string_to_metric_families
text = sys.stdin.read()
families = list(text_string_to_metric_families(text))
samples = [s for f in families for s in f.samples]
print(len(families), len(samples))
for f in families:
    for s in f.samples:
        if s.name == 'wallet_ops_health_status':
            print('health', s.value)
};
	IPC::Run::run([ $python, '-c', $script ], '<', \$metrics, '>', \$stdout, '2>', \$stderr);
	like($stdout, qr/^\d+ \d+$/m, 'prometheus_client parses metrics()') or diag($stderr);
	like($stdout, qr/^health 2\.0$/m, 'and reads wallet_ops_health_status 2');
}

# job_log retention: the worker removes rows older than the setting
$node->safe_psql('postgres', q{
INSERT INTO wallet_ops.job_log (started_at, finished_at, object, kind, action, outcome)
VALUES (now() - interval '2 days', now() - interval '2 days', 'old', 'test', 'test', 'ok');
});
$node->append_conf('postgresql.conf', "wallet_ops.job_log_retention = '1d'\n");
$node->reload;
ok( $node->poll_query_until('postgres', q{SELECT count(*) FROM wallet_ops.job_log WHERE object = 'old'}, '0'),
	'the worker purges job_log rows older than wallet_ops.job_log_retention');
ok($node->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.job_log}) > 0,
	'and keeps the recent ones');

# wallet_ops.enabled = off: the launcher starts no worker, a warning
$node->safe_psql('postgres', q{SELECT wallet_ops.unschedule_verification('entity_history')});
$node->safe_psql('postgres', q{DELETE FROM wallet_ops.verification_state});
$node->append_conf('postgresql.conf', "wallet_ops.enabled = off\n");
$node->reload;
ok( $node->poll_query_until('postgres',
		q{SELECT wallet_ops.health()->>'status' || ' ' || (SELECT c->>'detail' FROM jsonb_array_elements(wallet_ops.health()->'checks') c WHERE c->>'check' = 'worker')},
		'warning wallet_ops.enabled is off: no maintenance is done'),
	'wallet_ops.enabled = off makes health() a warning that says so');

# without shared_preload_libraries there is no worker: critical, and why
$node->stop;
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\nwallet_ops.enabled = on\n");
$node->start;
is($node->safe_psql('postgres', q{SELECT wallet_ops.health()->>'status'}), 'critical',
	'not preloaded: health() is critical');
like( $node->safe_psql('postgres',
		q{SELECT c->>'detail' FROM jsonb_array_elements(wallet_ops.health()->'checks') c WHERE c->>'check' = 'worker'}),
	qr/not loaded through shared_preload_libraries/,
	'the worker check says shared_preload_libraries lacks wallet_ops');
like($node->safe_psql('postgres', q{SELECT wallet_ops.metrics()}),
	qr/^wallet_ops_preloaded 0$/m, 'metrics(): wallet_ops_preloaded 0');

$node->stop;
done_testing();
