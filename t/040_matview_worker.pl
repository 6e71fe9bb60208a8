# The worker keeps managed materialised views fresh: a committed change to a
# source is in the view within about one naptime; no change, or a rolled-back
# one, causes no refresh; a failing view does not stop the others; a direct
# insert into a partition, also one made after the view was managed, counts.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $naptime = 1;

my $node = PostgreSQL::Test::Cluster->new('matview_worker');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'wallet_ops'
wallet_ops.naptime = $naptime
wallet_ops.lock_timeout = 500
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION wallet_ops;
CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL);
CREATE TABLE events (at date NOT NULL, account int NOT NULL, amount numeric NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE events_2026_01 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE events_2026_02 PARTITION OF events FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
INSERT INTO accounts VALUES (1, 'ann'), (2, 'bob');
INSERT INTO events VALUES ('2026-01-05', 1, 10);
CREATE MATERIALIZED VIEW balances AS
    SELECT a.id, coalesce(sum(e.amount), 0) AS total
      FROM accounts a LEFT JOIN events e ON e.account = a.id GROUP BY a.id;
CREATE UNIQUE INDEX ON balances (id);
CREATE MATERIALIZED VIEW owners AS SELECT DISTINCT owner FROM accounts;
CREATE UNIQUE INDEX ON owners (owner);
-- fails whenever ratios holds a zero
CREATE TABLE ratios (id int, parts int);
INSERT INTO ratios VALUES (1, 2);
CREATE MATERIALIZED VIEW fragile AS SELECT r.id, a.id AS account, 100 / r.parts AS share FROM ratios r, accounts a;
-- canary: refreshed on every tick whatever happens, to prove ticks happen
CREATE MATERIALIZED VIEW canary AS SELECT 1 AS one;
SELECT wallet_ops.manage_matview('balances');
SELECT wallet_ops.manage_matview('owners');
SELECT wallet_ops.manage_matview('fragile');
SELECT wallet_ops.manage_matview('canary', refresh_every => '1 second', on_change => false);
});

sub refreshes
{
	my ($mv) = @_;
	return $node->safe_psql('postgres',
		"SELECT coalesce((SELECT refreshes FROM wallet_ops.matview_state WHERE mv = '$mv'::regclass), 0)");
}

# Waits until $query returns 't'; returns the seconds it took, or undef.
sub wait_for
{
	my ($query, $limit) = @_;
	my $start = time;
	while (time - $start < $limit)
	{
		return time - $start
		  if $node->safe_psql('postgres', $query) eq 't';
		usleep(100_000);
	}
	return undef;
}

# Waits for n more refreshes of the canary: n more ticks have run.
sub wait_ticks
{
	my ($n) = @_;
	my $target = refreshes('canary') + $n;
	return wait_for("SELECT refreshes >= $target FROM wallet_ops.matview_state WHERE mv = 'canary'::regclass",
		30 * $n);
}

# The first tick refreshes every view once (their freshness is unknown).
ok(defined wait_for(q{SELECT count(*) = 4 FROM wallet_ops.matview_state WHERE refreshes >= 1}, 60),
	'the worker refreshes every managed view once');

# A committed change is in the view within about a naptime.
$node->safe_psql('postgres', 'INSERT INTO accounts VALUES (3, \'cyd\')');
my $took = wait_for(q{SELECT count(*) = 3 FROM balances}, 60);
ok(defined $took, 'an insert into a source reaches the view');
note(sprintf('view caught up %.2f s after the commit (naptime %d s)', $took // -1, $naptime));
my $lag = $node->safe_psql('postgres', q{
    SELECT extract(epoch FROM last_refresh - last_change) FROM wallet_ops.matview_state
     WHERE mv = 'balances'::regclass});
note("worker started the refresh $lag s after the change");
# one naptime, plus slack for a tick delayed by a loaded machine
cmp_ok($lag, '<=', $naptime + 2, 'the refresh starts within about one naptime of the change');

# No change: no refresh over many ticks.
wait_ticks(1);
my %before = map { $_ => refreshes($_) } qw(balances owners);
ok(defined wait_ticks(5), 'five more ticks ran');
is(refreshes('balances'), $before{balances}, 'no refresh of balances without a change');
is(refreshes('owners'), $before{owners}, 'no refresh of owners without a change');

# A rolled-back change: no refresh.
$node->safe_psql('postgres', q{
BEGIN;
INSERT INTO accounts VALUES (4, 'dee');
INSERT INTO events VALUES ('2026-02-03', 4, 7);
ROLLBACK;
});
ok(defined wait_ticks(3), 'three more ticks ran');
is(refreshes('balances'), $before{balances}, 'a rolled-back change causes no refresh');
is(refreshes('owners'), $before{owners}, 'a rolled-back change causes no refresh of owners');
is($node->safe_psql('postgres', 'SELECT count(*) FROM wallet_ops.matview_changes'),
	'0', 'no change row is left behind');

# A failing view does not stop the others, and is retried.
$node->safe_psql('postgres', q{
INSERT INTO ratios VALUES (2, 0);
INSERT INTO accounts VALUES (5, 'eve');
});
ok(defined wait_for(q{SELECT count(*) = 4 FROM balances}, 60),
	'balances caught up while fragile fails');
ok(defined wait_for(q{SELECT count(*) = 4 FROM owners}, 60), 'owners caught up too');
ok(defined wait_for(q{SELECT failures >= 2 FROM wallet_ops.matview_state WHERE mv = 'fragile'::regclass}, 60),
	'the failing view is retried on later ticks');
is($node->safe_psql('postgres', q{
    SELECT last_result || ': ' || last_error FROM wallet_ops.matview_state WHERE mv = 'fragile'::regclass}),
	'error: division by zero', 'its state says why');
ok($node->safe_psql('postgres', q{
    SELECT count(*) >= 2 FROM wallet_ops.job_log
     WHERE object = 'public.fragile' AND kind = 'matview' AND outcome = 'error' AND sqlstate = '22012'}) eq 't',
	'each failure is in job_log');
ok($node->log_contains(qr/could not refresh materialized view "public\.fragile"/),
	'and in the server log');
$node->safe_psql('postgres', 'DELETE FROM ratios WHERE parts = 0');
ok(defined wait_for(q{SELECT last_result = 'ok' FROM wallet_ops.matview_state WHERE mv = 'fragile'::regclass}, 60),
	'the view recovers once its query works again');

# A direct insert into a partition marks the view reading the parent.
$node->safe_psql('postgres', q{INSERT INTO events_2026_02 VALUES ('2026-02-10', 2, 100)});
ok(defined wait_for(q{SELECT total = 100 FROM balances WHERE id = 2}, 60),
	'an insert into a partition reaches the view');

# So does one into a partition made after the view was managed.
$node->safe_psql('postgres', q{
CREATE TABLE events_2026_03 PARTITION OF events FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
});
wait_ticks(1);
$node->safe_psql('postgres', q{INSERT INTO events_2026_03 VALUES ('2026-03-10', 1, 1000)});
ok(defined wait_for(q{SELECT total = 1010 FROM balances WHERE id = 1}, 60),
	'an insert into a new partition reaches the view');

# Consumed change rows do not pile up.
wait_ticks(2);
is($node->safe_psql('postgres', 'SELECT count(*) FROM wallet_ops.matview_changes'),
	'0', 'change rows are pruned once every view has seen them');

# Unmanaged: no more refreshes, no watchers left.
$node->safe_psql('postgres', q{
SELECT wallet_ops.unmanage_matview(mv) FROM wallet_ops.matviews WHERE mv <> 'canary'::regclass;
});
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'wallet_ops_matview%'}),
	'0', 'unmanaging removes the watchers');
$node->safe_psql('postgres', q{INSERT INTO accounts VALUES (6, 'fay')});
wait_ticks(2);
is($node->safe_psql('postgres', 'SELECT count(*) FROM balances'), '4',
	'an unmanaged view is no longer refreshed');

$node->stop;
done_testing();
