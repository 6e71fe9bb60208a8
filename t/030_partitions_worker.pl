# The worker pool in one database: the launcher learns of it from CREATE
# EXTENSION, a reload to a short naptime makes it tick at once, it makes
# partitions and moves rows out of the default partition without any call,
# survives a broken table, SIGKILL and SIGTERM, stops with DROP EXTENSION,
# follows wallet_ops.databases and leaves a database with nothing managed
# alone.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('worker');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'wallet_ops'
restart_after_crash = on
# the server's zone (UTC+05:45) must not move the UTC bounds
timezone = 'Asia/Kathmandu'
wallet_ops.naptime = 3600
wallet_ops.lock_timeout = 500
});
$node->start;

my $ticks = 'SELECT ticks FROM wallet_ops.worker_state';

ok( $node->poll_query_until('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'wallet_ops launcher'"
		  . " AND application_name = 'wallet_ops launcher'", '1'),
	'launcher runs');

# "postgres" has the extension and nothing managed: it is the observer.
$node->safe_psql('postgres', 'CREATE EXTENSION wallet_ops');
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', 'CREATE EXTENSION wallet_ops');
ok( $node->poll_query_until('postgres',
		'SELECT databases_known FROM wallet_ops._worker_pool()', '2'),
	'CREATE EXTENSION makes the database known to the launcher');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'wallet_ops worker'"),
	'0', 'no worker connects before the first tick is due');

# Tables configured as a restore from pg_dump leaves them: rows in
# partition_config, no call to manage_partitions() or run_maintenance().
# "broken" has a partition across two months, so maintaining it fails.
$node->safe_psql('app', q{
CREATE TABLE ev (at timestamptz NOT NULL, v int) PARTITION BY RANGE (at);
CREATE TABLE broken (at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE broken_odd PARTITION OF broken
    FOR VALUES FROM (date_trunc('month', now(), 'UTC') + interval '15 days')
                 TO (date_trunc('month', now(), 'UTC') + interval '45 days');
INSERT INTO wallet_ops.partition_config (relid, period, premake)
VALUES ('broken', 'month', 2), ('ev', 'month', 2);
});

# The database was seen with naptime = 3600 and would get no tick for an
# hour: a reload makes its tick due at once, and every second after.
$node->append_conf('postgresql.conf', "wallet_ops.naptime = 1\n");
$node->reload;
ok( $node->poll_query_until('app',
		"SELECT count(*) FROM pg_inherits WHERE inhparent = 'ev'::regclass", '4'),
	'after a reload the worker makes the partitions by itself');
is( $node->safe_psql('app',
		"SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i"
		  . " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'ev'::regclass"),
	$node->safe_psql('app',
		"SELECT string_agg(n, ',' ORDER BY n) FROM (SELECT 'ev_default' AS n UNION ALL"
		  . " SELECT 'ev_' || to_char(date_trunc('month', now(), 'UTC') + k * interval '1 month', 'YYYY_MM')"
		  . " FROM generate_series(0, 2) k) x"),
	'current month, two ahead and the default partition');
is( $node->safe_psql('app', q{
INSERT INTO ev VALUES (date_trunc('month', now(), 'UTC') + interval '1 month' - interval '1 second', 0),
                      (date_trunc('month', now(), 'UTC') + interval '1 month', 0);
SELECT string_agg(tableoid::regclass || ' ' || to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), ', ' ORDER BY at)
  FROM ev;
DELETE FROM ev;}),
	$node->safe_psql('app', q{
SELECT format('ev_%s %s, ev_%s %s',
              to_char(m, 'YYYY_MM'), to_char(m + interval '1 month' - interval '1 second', 'YYYY-MM-DD HH24:MI:SS'),
              to_char(m + interval '1 month', 'YYYY_MM'), to_char(m + interval '1 month', 'YYYY-MM-DD HH24:MI:SS'))
  FROM (SELECT date_trunc('month', now() AT TIME ZONE 'UTC') AS m) x}),
	'bounds are UTC midnights whatever the server time zone');
ok( $node->poll_query_until('app',
		"SELECT count(*) > 0 FROM wallet_ops.job_log WHERE object = 'public.broken'"
		  . " AND outcome = 'error' AND sqlstate = '42P17'"),
	'the broken table is recorded as an error');
is( $node->safe_psql('app',
		"SELECT last_result FROM wallet_ops.partition_config WHERE relid = 'broken'::regclass"),
	'error', 'and its configuration says so');
my $t = $node->safe_psql('app', $ticks);
ok($node->poll_query_until('app', "SELECT ticks > $t FROM wallet_ops.worker_state"),
	'the ticks go on');
ok($node->log_contains('wallet_ops: maintenance of "public.broken" failed'),
	'the error is in the server log');

# Rows that land in the default partition are moved into new partitions.
# (counted before the commit: a tick right after it may already move them)
is( $node->safe_psql('app',
		"BEGIN; INSERT INTO ev SELECT now() + interval '2 years' + n * interval '1 hour', n"
		  . " FROM generate_series(1, 100) n; SELECT count(*) FROM ONLY ev_default; COMMIT;"),
	'100', 'rows without a partition landed in the default partition');
ok( $node->poll_query_until('app',
		"SELECT (SELECT count(*) FROM ONLY ev_default) = 0"
		  . " AND (SELECT count(*) FROM ev) = 100 AND (SELECT sum(v) FROM ev) = 5050"),
	'the worker moved them into their partitions, none lost');

# Catch a worker in app: a session holds a lock on ev, so that each tick
# waits for it up to wallet_ops.lock_timeout (500 ms).
sub hold_lock_on_ev
{
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-XAtq', '-d', $node->connstr('app'),
		  '-c', 'BEGIN; LOCK ev; SELECT pg_sleep(60)' ],
		'>', \$out, '2>', \$err);
	return $h;
}

sub catch_worker
{
	for (1 .. 600)
	{
		my $pid = $node->safe_psql('postgres',
			"SELECT pid FROM pg_stat_activity WHERE backend_type = 'wallet_ops worker' AND datname = 'app'");
		return $pid if $pid ne '';
		select(undef, undef, undef, 0.01);
	}
	return undef;
}

# SIGKILL: the server restarts every process, and the database gets its
# ticks again.
my $locker = hold_lock_on_ev();
my $pid = catch_worker();
ok(defined $pid, 'a worker is caught in the middle of a tick');
my $log_offset = -s $node->logfile;
kill 'KILL', $pid;
$locker->finish;
# ask nothing before the server accepts connections again (psql, given its
# query on stdin, exits while the server refuses them: a broken pipe)
$node->wait_for_log(
	qr/all server processes terminated; reinitializing.*database system is ready to accept connections/s,
	$log_offset);
ok( $node->poll_query_until('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'wallet_ops launcher'", '1'),
	'the launcher is back after SIGKILL of a worker');
ok($node->log_contains('terminated by signal 9', $log_offset), 'SIGKILL made a crash restart');
$node->safe_psql('app',
	"UPDATE wallet_ops.partition_config SET premake = 4 WHERE relid = 'ev'::regclass");
ok( $node->poll_query_until('app',
		"SELECT count(*) FROM pg_inherits WHERE inhparent = 'ev'::regclass", '7'),
	'and the database is maintained again');

# SIGTERM stops a worker at once; its database gets a tick again soon.
$locker = hold_lock_on_ev();
$pid = catch_worker();
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)") if defined $pid;
$node->safe_psql('postgres', q{
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
 WHERE datname = 'app' AND backend_type = 'client backend' AND query LIKE '%pg_sleep(60)%'});
$locker->finish;
ok($node->log_contains('terminating background worker "wallet_ops worker" due to administrator command'),
	'SIGTERM terminated it');
$t = $node->safe_psql('app', $ticks);
ok($node->poll_query_until('app', "SELECT ticks > $t FROM wallet_ops.worker_state"),
	'and the database gets its ticks again');

# job_log rows older than wallet_ops.job_log_retention are purged.
$node->safe_psql('app',
	"INSERT INTO wallet_ops.job_log (started_at, object, kind, action, outcome)"
	  . " VALUES (now() - interval '31 days', 'old', 'test', 'test', 'ok')");
ok( $node->poll_query_until('app',
		"SELECT count(*) FROM wallet_ops.job_log WHERE object = 'old'", '0'),
	'old job_log rows are purged');

# A role that does not exist: each tick fails, is logged and recorded.
$node->append_conf('postgresql.conf', "wallet_ops.role = 'no_such_role'\n");
$node->reload;
ok( $node->poll_query_until('app',
		"SELECT count(*) > 0 FROM wallet_ops.job_log WHERE kind = 'worker'"
		  . " AND outcome = 'error' AND error LIKE 'role \"no_such_role\"%'"),
	'a bad wallet_ops.role is recorded in job_log');
$node->append_conf('postgresql.conf', "wallet_ops.role = ''\n");
$node->reload;

# wallet_ops.databases restricts the pool.
$node->append_conf('postgresql.conf', "wallet_ops.databases = 'postgres'\n");
$node->reload;
sleep 2;
$t = $node->safe_psql('app', $ticks);
sleep 3;
is($node->safe_psql('app', $ticks), $t, 'a database left out of wallet_ops.databases gets no tick');
$node->append_conf('postgresql.conf', "wallet_ops.databases = ''\n");
$node->reload;
ok($node->poll_query_until('app', "SELECT ticks > $t FROM wallet_ops.worker_state"),
	'and gets them again');

# A database with nothing managed gets no ticks at intervals.
$t = $node->safe_psql('postgres', $ticks);
sleep 4;
ok($node->safe_psql('postgres', $ticks) <= $t + 1,
	'a database with nothing managed is left alone (naptime 1 s, 4 s)');

# DROP EXTENSION: the next tick finds it gone and the launcher forgets the
# database; CREATE EXTENSION makes it known again.
$node->safe_psql('app', 'DROP EXTENSION wallet_ops');
ok( $node->poll_query_until('postgres',
		'SELECT databases_known FROM wallet_ops._worker_pool()', '1'),
	'after DROP EXTENSION the launcher leaves the database alone');
$node->safe_psql('app', 'CREATE EXTENSION wallet_ops');
ok( $node->poll_query_until('postgres',
		'SELECT databases_known FROM wallet_ops._worker_pool()', '2'),
	'CREATE EXTENSION makes it known again');
ok($node->poll_query_until('app', 'SELECT ticks > 0 FROM wallet_ops.worker_state'),
	'and it gets its first tick');

# DROP DATABASE is never refused because of a worker.
$node->safe_psql('postgres', 'DROP DATABASE app');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_database WHERE datname = 'app'"),
	'0', 'DROP DATABASE succeeds');

$node->stop;
done_testing();
