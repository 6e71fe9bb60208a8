# The worker pool: 30 databases with managed tables on a cluster with
# max_worker_processes = 8 and wallet_ops.max_workers = 2.  In each, a
# dropped future partition comes back within the documented bound; never
# more than 2 wallet_ops workers run at once (the postmaster's log of the
# workers it starts and reaps, replayed; pg_stat_activity is sampled through
# the test to show they were at work); a crash restart in the middle; CREATE DATABASE ...
# TEMPLATE one of them; DROP DATABASE does not wait; a shortage of
# background worker slots is logged once and reported by health() and
# metrics(); health() warns when a database's last tick is older than
# twice the bound.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time);

my $ndb = 30;
my $naptime = 2;

my $node = PostgreSQL::Test::Cluster->new('pool');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'wallet_ops'
restart_after_crash = on
max_worker_processes = 8
wallet_ops.max_workers = 2
wallet_ops.naptime = $naptime
wallet_ops.lock_timeout = 500
track_commit_timestamp = on
log_min_messages = debug1
});
$node->start;

my @dbs = map { sprintf('tenant%02d', $_) } 1 .. $ndb;
for my $db (@dbs)
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, q{
CREATE EXTENSION wallet_ops;
CREATE TABLE ev (at timestamptz NOT NULL, v int) PARTITION BY RANGE (at);
SELECT count(*) FROM wallet_ops.manage_partitions('ev', 'month', premake => 3);
});
}

# the name of the last partition made ahead, in one database
sub last_partition
{
	my ($db) = @_;
	return $node->safe_psql($db, q{
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'ev'::regclass AND c.relname <> 'ev_default'
 ORDER BY c.relname DESC LIMIT 1});
}

# Every database gets its first tick one naptime after it was seen.
sub ticks
{
	my ($db) = @_;
	return $node->safe_psql($db, 'SELECT ticks FROM wallet_ops.worker_state');
}

sub wait_all_ticked
{
	my ($min, $timeout) = @_;
	my $deadline = time() + $timeout;
	my @left = @dbs;
	while (@left && time() < $deadline)
	{
		@left = grep { ticks($_) < $min } @left;
		sleep 0.2 if @left;
	}
	return scalar(@left);
}

is(wait_all_ticked(1, 120), 0, "all $ndb databases get a tick");

# Sample the wallet_ops workers in pg_stat_activity every 20 ms until told
# to stop (a row in pool_sampler_stop), and return the most seen at once.
# That shows the workers at work, but is no proof of the bound: one read of
# pg_stat_activity is not atomic, and on a loaded machine it can pass a
# worker that then exits and find the one started in its place further on.
$node->safe_psql('postgres', q{
CREATE TABLE pool_sampler_stop (stop boolean);
CREATE FUNCTION sample_workers() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    most int := 0;
    n int;
    samples int := 0;
BEGIN
    LOOP
        PERFORM pg_stat_clear_snapshot();
        SELECT count(*) INTO n FROM pg_stat_activity
         WHERE backend_type = 'wallet_ops worker';
        most := greatest(most, n);
        samples := samples + 1;
        EXIT WHEN EXISTS (SELECT 1 FROM pool_sampler_stop);
        PERFORM pg_sleep(0.02);
    END LOOP;
    RETURN most || ' ' || samples;
END $$;
});
my ($sample_out, $sample_err) = ('', '');
my $sampler = IPC::Run::start(
	[
		'psql', '-XAtq', '-d', $node->connstr('postgres'),
		'-c', 'SELECT sample_workers()'
	],
	'>', \$sample_out, '2>', \$sample_err);

# Drop the last partition made ahead in every database; each comes back
# within the bound health() computes.  The time each took is the server's:
# from the DROP to the commit of the CREATE that made it again
# (track_commit_timestamp), so the test's polling adds nothing to it.
sub drop_and_wait
{
	my ($what) = @_;
	my (%dropped, %dropped_at);
	for my $db (@dbs)
	{
		my $p = last_partition($db);
		$dropped_at{$db} = $node->safe_psql($db, "DROP TABLE $p; SELECT clock_timestamp()");
		$dropped{$db} = $p;
	}
	my $start = time();
	my @left = @dbs;
	while (@left && time() - $start < 120)
	{
		@left = grep { last_partition($_) ne $dropped{$_} } @left;
		sleep 0.2 if @left;
	}
	is(scalar(@left), 0, "$what: the dropped partition is back in every database");
	my $longest = 0;
	for my $db (@dbs)
	{
		my $took = $node->safe_psql($db, qq{
SELECT extract(epoch FROM pg_xact_commit_timestamp(xmin) - '$dropped_at{$db}'::timestamptz)
  FROM pg_class WHERE relname = '$dropped{$db}'});
		$longest = $took if $took > $longest;
	}
	my $bound = $node->safe_psql($dbs[0],
		'SELECT extract(epoch FROM tick_bound) FROM wallet_ops._worker_state()');
	note(sprintf("%s: the slowest of %d databases was served %.2f s after its change; bound %.2f s",
			$what, $ndb, $longest, $bound));
	ok($longest > 0 && $longest <= $bound, "$what: each within the documented bound");
}

drop_and_wait('running pool');

# A crash restart in the middle: the launcher comes back and every database
# is seen anew.  The sampler's session would die with it: stop it first.
$node->safe_psql('postgres', 'INSERT INTO pool_sampler_stop VALUES (true)');
$sampler->finish;
my ($before_crash) = $sample_out =~ /^(\d+) /m;
$node->safe_psql('postgres', 'TRUNCATE pool_sampler_stop');

my $victim = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'wallet_ops launcher'");
my $crash_log = -s $node->logfile;
# kill a regular backend with SIGKILL: the postmaster reinitialises
my ($h_out, $h_err) = ('', '');
my $h = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $node->connstr('tenant02') . ' application_name=crash_victim',
	  '-c', 'SELECT pg_sleep(60)' ],
	'>', \$h_out, '2>', \$h_err);
$node->poll_query_until('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'crash_victim'", '1');
kill 'KILL', $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE application_name = 'crash_victim'");
$h->finish;
# Ask nothing before the server accepts connections again: psql, given its
# query on stdin, exits while the server refuses them, and the test then
# dies of the broken pipe (seen on 18).
$node->wait_for_log(
	qr/all server processes terminated; reinitializing.*database system is ready to accept connections/s,
	$crash_log);
ok( $node->poll_query_until('postgres', qq{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE backend_type = 'wallet_ops launcher' AND pid <> $victim}),
	'the launcher is back after the crash restart');
ok($node->log_contains('terminated by signal 9', $crash_log),
	'the server went through a crash restart');

# sample again
$sample_out = '';
$sampler = IPC::Run::start(
	[
		'psql', '-XAtq', '-d', $node->connstr('postgres'),
		'-c', 'SELECT sample_workers()'
	],
	'>', \$sample_out, '2>', \$sample_err);

drop_and_wait('after a crash restart');

# CREATE DATABASE ... TEMPLATE a served database: no worker stays in it.
for my $i (1 .. 3)
{
	my ($ret, $out, $err) = $node->psql('postgres',
		"CREATE DATABASE copy$i TEMPLATE tenant03");
	is($ret, 0, "CREATE DATABASE ... TEMPLATE a served database works ($i)")
	  or diag($err);
	sleep 0.7;
}
# the copy is served too
my $copy_part = last_partition('copy1');
$node->safe_psql('copy1', "DROP TABLE $copy_part");
ok( $node->poll_query_until('copy1', qq{
SELECT count(*) = 1 FROM pg_class WHERE relname = '$copy_part'}),
	'the copy is served by the pool');

# DROP DATABASE never waits on a worker
my $t0 = time();
$node->safe_psql('postgres', 'DROP DATABASE copy2');
$node->safe_psql('postgres', 'DROP DATABASE copy3');
ok(time() - $t0 < 5, 'DROP DATABASE does not wait');

# never more than wallet_ops.max_workers workers at once
$node->safe_psql('postgres', 'INSERT INTO pool_sampler_stop VALUES (true)');
$sampler->finish;
my ($most, $samples) = $sample_out =~ /^(\d+) (\d+)$/m;
ok(defined $most && $samples > 100, 'pg_stat_activity was sampled through the test');
ok($before_crash >= 1 && $most >= 1, 'workers were seen at work before and after the crash');

# The bound, exactly: the postmaster logs (DEBUG1) each worker it starts
# before the fork and each one it reaps, one after the other in its single
# thread, so replaying its log counts the worker processes that existed at
# once, dying ones included.  A crash restart reaps them all.
my ($existing, $most_existing, $started) = (0, 0, 0);
for my $line (split /\n/, slurp_file($node->logfile))
{
	if ($line =~ /starting background worker process "wallet_ops worker for database \d+"/)
	{
		$started++;
		$existing++;
		$most_existing = $existing if $existing > $most_existing;
	}
	elsif ($line =~ /background worker "wallet_ops worker" \(PID \d+\) (?:exited|was terminated)/)
	{
		$existing--;
	}
	elsif ($line =~ /all server processes terminated; reinitializing/)
	{
		$existing = 0;
	}
}
note("most workers seen at once in pg_stat_activity: before the crash $before_crash, after $most ($samples samples);"
	  . " most existing at once by the postmaster's log: $most_existing of $started started");
ok($started > 2 * $ndb, 'the postmaster logged the workers it started');
ok($most_existing >= 1 && $most_existing <= 2, 'never more than 2 wallet_ops workers at once');

# health() and metrics() see the pool
my $health = $node->safe_psql('tenant05', q{
SELECT c->>'status' || ': ' || (c->>'detail') FROM jsonb_array_elements(wallet_ops.health()->'checks') c
 WHERE c->>'check' = 'worker'});
like($health, qr/^ok: last tick .* \(3\d databases, 2 workers\)/, 'health() reports the pool');
my $metrics = $node->safe_psql('tenant05', 'SELECT wallet_ops.metrics()');
like($metrics, qr/^wallet_ops_worker_tick_bound_seconds \d/m, 'metrics() exports the bound');
like($metrics, qr/^wallet_ops_worker_slot_shortage 0$/m, 'no shortage');

# A database with only a view refreshed on change gets no ticks at
# intervals, and a tick within about one naptime of a committed change: the
# launcher is woken, not polled.
$node->safe_psql('postgres', 'CREATE DATABASE views');
$node->safe_psql('views', q{
CREATE EXTENSION wallet_ops;
CREATE TABLE src (id int PRIMARY KEY);
CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM src;
CREATE UNIQUE INDEX ON mv (n);
SELECT wallet_ops.manage_matview('mv');
});
ok($node->poll_query_until('views', 'SELECT ticks > 0 FROM wallet_ops.worker_state'),
	'the view-only database gets its first tick');
# the wake-ups of CREATE EXTENSION and manage_matview may give a second
# tick, late on a loaded machine: wait for a naptime without one (a
# database ticked at intervals never has one, and fails below)
my $idle_ticks = $node->safe_psql('views', 'SELECT ticks FROM wallet_ops.worker_state');
for my $try (1 .. 5)
{
	sleep $naptime;
	my $now = $node->safe_psql('views', 'SELECT ticks FROM wallet_ops.worker_state');
	last if $now eq $idle_ticks;
	$idle_ticks = $now;
}
sleep 3 * $naptime;
is($node->safe_psql('views', 'SELECT ticks FROM wallet_ops.worker_state'), $idle_ticks,
	'with its view fresh it gets no ticks at intervals');
my $changed = time();
$node->safe_psql('views', 'INSERT INTO src SELECT generate_series(1, 7)');
ok($node->poll_query_until('views', 'SELECT n = 7 FROM mv'), 'a committed change wakes the launcher');
my $lag = time() - $changed;
note(sprintf('view refreshed %.1f s after the change (naptime %d s)', $lag, $naptime));
ok($lag <= 2 * $naptime + 1, 'within about one naptime');

# Short of background worker slots: the logical replication launcher,
# ours and one worker fit.
$node->append_conf('postgresql.conf', "max_worker_processes = 3\n");
my $log_offset = -s $node->logfile;
$node->restart;
ok( $node->poll_query_until('tenant06', q{
SELECT c->>'status' || ': ' || (c->>'detail') ~ '^warning: no background worker slot was free for a wallet_ops worker since .* raise max_worker_processes'
  FROM jsonb_array_elements(wallet_ops.health()->'checks') c WHERE c->>'check' = 'worker'}),
	'health() warns when the pool is short of slots');
like($node->safe_psql('tenant06', 'SELECT wallet_ops.metrics()'),
	qr/^wallet_ops_worker_slot_shortage 1$/m, 'metrics() reports the shortage');
# several retries and several rounds of ticks later ...
my %dropped;
for my $db (@dbs[0 .. 3])
{
	$dropped{$db} = last_partition($db);
	$node->safe_psql($db, "DROP TABLE $dropped{$db}");
}
my $deadline = time() + 120;
my @left = keys %dropped;
while (@left && time() < $deadline)
{
	@left = grep { last_partition($_) ne $dropped{$_} } @left;
	sleep 0.5 if @left;
}
is(scalar(@left), 0, 'one worker still serves the databases');
sleep 6;
my $log = slurp_file($node->logfile, $log_offset);
my $said = () = $log =~ /no background worker slot is free for a wallet_ops worker/g;
is($said, 1, 'the shortage is logged once');
unlike($log, qr/could not start worker/, 'no message at every attempt');

$node->stop;

# A last tick older than twice the bound is a warning.  On a cluster of its
# own: the bound counts from the launcher's start at the earliest, and the
# crash restart above is recent.
my $small = PostgreSQL::Test::Cluster->new('pool_small');
$small->init;
$small->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'wallet_ops'
wallet_ops.naptime = 1
});
$small->start;
$small->safe_psql('postgres', q{
CREATE EXTENSION wallet_ops;
CREATE TABLE ev (at timestamptz NOT NULL) PARTITION BY RANGE (at);
SELECT count(*) FROM wallet_ops.manage_partitions('ev', 'month');
});
ok($small->poll_query_until('postgres', 'SELECT ticks > 0 FROM wallet_ops.worker_state'),
	'a single database gets its ticks');
my $bound = $small->safe_psql('postgres',
	'SELECT extract(epoch FROM tick_bound) FROM wallet_ops._worker_state()');
sleep(2 * $bound + 1);
$health = $small->safe_psql('postgres', q{
BEGIN;
UPDATE wallet_ops.worker_state SET last_tick_started = now() - interval '1 hour';
SELECT c->>'status' || ': ' || (c->>'detail') FROM jsonb_array_elements(wallet_ops.health()->'checks') c
 WHERE c->>'check' = 'worker';
ROLLBACK;});
like($health, qr/^warning: no tick in database postgres for \d+ seconds, more than twice the bound of [\d ]+seconds? \(1 databases, 2 workers\)/,
	'health() warns when the last tick is older than twice the bound');
like($small->safe_psql('postgres', q{
SELECT c->>'status' FROM jsonb_array_elements(wallet_ops.health()->'checks') c WHERE c->>'check' = 'worker'}),
	qr/^ok$/, 'and is ok while the ticks come');
$small->stop;
done_testing();
