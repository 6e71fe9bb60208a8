# Digests shipped by the worker: wallet_ops.digest_archive_command fails,
# then hangs (killed after wallet_ops.digest_archive_timeout), the server
# restarts, then the command succeeds.  Nothing is lost (every digest taken
# arrives, and the last verifies the table), nothing is shipped twice under
# the same name (the command refuses an existing name, and no such refusal
# happens), each attempt is in job_log, health() and metrics() say so.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $dir = PostgreSQL::Test::Utils::tempdir();
mkdir "$dir/archive" or die;
open(my $fh, '>', "$dir/ship.sh") or die;
print $fh <<"EOF";
#!/bin/sh
# ship.sh PATH NAME
[ -e "$dir/fail" ] && { echo "failing on purpose" >&2; exit 3; }
[ -e "$dir/hang" ] && sleep 600
[ -e "$dir/archive/\$2" ] && { echo "\$2 exists already" >&2; exit 4; }
cp "\$1" "$dir/archive/\$2.tmp" && mv "$dir/archive/\$2.tmp" "$dir/archive/\$2"
EOF
close($fh);
chmod 0755, "$dir/ship.sh";
open($fh, '>', "$dir/fail") or die;
close($fh);

my $node = PostgreSQL::Test::Cluster->new('digest_ship');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'wallet_ops'
wallet_ops.naptime = 1
wallet_ops.digest_archive_command = '$dir/ship.sh %p %f'
wallet_ops.digest_archive_timeout = 2
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION wallet_ops;
CREATE TABLE ledger (k int NOT NULL, v text);
SELECT wallet_ops.enable_hash_chain('ledger', '{k}');
INSERT INTO ledger SELECT g % 5, 'v' || g FROM generate_series(1, 50) g;
SELECT wallet_ops.schedule_digest('ledger', '1 second');
});
my $local = $node->data_dir . '/pg_wallet_ops/digests';
sub waiting { my @f = glob("$local/*.json"); return scalar(@f); }
sub archived { my @f = glob("$dir/archive/*.json"); return scalar(@f); }
sub attempts
{
	my ($outcome, $like) = @_;
	return $node->safe_psql('postgres', qq{
SELECT count(*) FROM wallet_ops.job_log
 WHERE kind = 'digest' AND action = 'ship' AND outcome = '$outcome' AND detail LIKE '$like'});
}

# 1. the command fails: digests wait, the failures are recorded
ok($node->poll_query_until('postgres', q{
SELECT count(*) >= 2 FROM wallet_ops.job_log WHERE kind = 'digest' AND action = 'ship' AND outcome = 'error'}),
	'a failing command is recorded in job_log');
ok(waiting() >= 1, 'digests wait under the data directory: ' . waiting());
is(archived(), 0, 'nothing arrived');
like($node->safe_psql('postgres', q{
SELECT c->>'detail' FROM jsonb_array_elements(wallet_ops.health()->'checks') c WHERE c->>'check' = 'digest'}),
	qr/failed attempts in a row, the last: .*exit code 3/, 'health() says why');
like($node->safe_psql('postgres', 'SELECT wallet_ops.metrics()'),
	qr/^wallet_ops_digest_ship_failures\{table="public.ledger"\} [1-9]/m, 'metrics() counts the failures');

# 2. the command hangs: killed after the timeout, with what it started
unlink "$dir/fail";
open($fh, '>', "$dir/hang") or die;
close($fh);
ok($node->poll_query_until('postgres',
		q{SELECT count(*) > 0 FROM wallet_ops.job_log WHERE kind = 'digest' AND outcome = 'error' AND detail LIKE '%was killed%'}),
	'a hanging command is killed after wallet_ops.digest_archive_timeout');
sleep 1;
is(`pgrep -f 'sleep 60[0]' | wc -l` + 0, 0, 'nothing it started is left running');
is(archived(), 0, 'nothing arrived');

# 3. a restart in between; then the command works
$node->stop('fast');
unlink "$dir/hang";
my $before = waiting();
ok($before >= 1, "$before digests wait across the restart");
$node->start;
my $deadline = time() + 90;
sleep 1 while (waiting() > 0 && time() < $deadline);
is(waiting(), 0, 'every waiting digest was shipped and removed locally');
$node->safe_psql('postgres', q{SELECT wallet_ops.unschedule_digest('ledger')});
sleep 2;
my $taken = $node->safe_psql('postgres',
	q{SELECT count(*) FROM wallet_ops.job_log WHERE kind = 'digest' AND action = 'take'});
is(archived(), $taken, "every digest taken ($taken) arrived, once each");
is(attempts('error', '%exists already%'), '0', 'none was shipped twice under the same name');
is(attempts('ok', '%'), $taken, 'each shipping is in job_log');

# the last one arrived whole: it verifies the table
my @files = sort glob("$dir/archive/*.json");
my $last = slurp_file($files[-1]);
$last =~ s/'/''/g;
is($node->safe_psql('postgres', qq{SELECT count(*) FROM wallet_ops.verify_against_digest('ledger', '$last')}),
	'0', 'the last digest shipped verifies the table');
like($node->safe_psql('postgres', q{SELECT failures || ' ' || (last_shipped IS NOT NULL) FROM wallet_ops.digest_schedule}),
	qr/^$/, 'unscheduled: its row is gone');

# refusals
my ($ret, $out, $err) = $node->psql('postgres', q{SELECT wallet_ops.schedule_digest('ledger', '10 ms')});
like($err, qr/digest interval 0\.01 seconds? is out of range|digest interval .* is out of range/, 'an interval below naptime is refused');
$node->safe_psql('postgres', 'CREATE TABLE plain (x int)');
($ret, $out, $err) = $node->psql('postgres', q{SELECT wallet_ops.schedule_digest('plain', '1 hour')});
like($err, qr/is not hash-chained/, 'a table that is not chained is refused');

$node->stop;
done_testing();
