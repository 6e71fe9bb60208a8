# On a logical replication subscriber, rows applied by the apply worker
# (session_replication_role = replica, row triggers only) mark the managed
# views that read them, so the worker refreshes those views.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $schema = q{
CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL);
CREATE TABLE events (at date NOT NULL, account int NOT NULL, amount numeric NOT NULL,
                     PRIMARY KEY (at, account))
    PARTITION BY RANGE (at);
CREATE TABLE events_2026_01 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE events_2026_02 PARTITION OF events FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
};

my $pub = PostgreSQL::Test::Cluster->new('matview_pub');
$pub->init(allows_streaming => 'logical');
$pub->start;
$pub->safe_psql('postgres', $schema);
$pub->safe_psql('postgres', q{
INSERT INTO accounts VALUES (1, 'ann');
CREATE PUBLICATION pub FOR TABLE accounts, events WITH (publish_via_partition_root = true);
});

my $sub = PostgreSQL::Test::Cluster->new('matview_sub');
$sub->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$sub->append_conf('postgresql.conf', q{
shared_preload_libraries = 'wallet_ops'
wallet_ops.naptime = 1
});
$sub->start;
$sub->safe_psql('postgres', $schema);
$sub->safe_psql('postgres', q{
CREATE EXTENSION wallet_ops;
CREATE MATERIALIZED VIEW balances AS
    SELECT a.id, coalesce(sum(e.amount), 0) AS total
      FROM accounts a LEFT JOIN events e ON e.account = a.id GROUP BY a.id;
CREATE UNIQUE INDEX ON balances (id);
SELECT wallet_ops.manage_matview('balances');
});

sub wait_for
{
	my ($query, $limit) = @_;
	my $start = time;
	while (time - $start < $limit)
	{
		return 1 if $sub->safe_psql('postgres', $query) eq 't';
		usleep(100_000);
	}
	return 0;
}

ok(wait_for(q{SELECT refreshes >= 1 FROM wallet_ops.matview_state WHERE mv = 'balances'::regclass}, 60),
	'first refresh under management');

my $connstr = $pub->connstr . ' dbname=postgres';
$sub->safe_psql('postgres', "CREATE SUBSCRIPTION sub CONNECTION '$connstr' PUBLICATION pub");
$sub->wait_for_subscription_sync($pub, 'sub');

# the initial copy runs like COPY: statement triggers fire
ok(wait_for(q{SELECT count(*) = 1 FROM balances}, 60), 'the initial copy reaches the view');

# applied changes fire row triggers only: the replica-enabled row watcher marks
$pub->safe_psql('postgres', q{
INSERT INTO accounts VALUES (2, 'bob');
INSERT INTO events VALUES ('2026-02-03', 2, 40);
});
$pub->wait_for_catchup('sub');
ok(wait_for(q{SELECT total = 40 FROM balances WHERE id = 2}, 60),
	'rows applied by logical replication reach the view, also through a partitioned table');

$pub->safe_psql('postgres', q{UPDATE events SET amount = 41 WHERE account = 2});
$pub->wait_for_catchup('sub');
ok(wait_for(q{SELECT total = 41 FROM balances WHERE id = 2}, 60), 'an applied update reaches the view');

$sub->safe_psql('postgres', 'DROP SUBSCRIPTION sub');
$sub->stop;
$pub->stop;
done_testing();
