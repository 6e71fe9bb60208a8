# The real postgres_exporter (Debian: prometheus-postgres-exporter) serves
# every metric family of wallet_ops.metrics() with contrib/prometheus/
# queries.yaml: the same names, types, labels and values, scraped over HTTP
# from its /metrics, connected as a member of pg_monitor; a tampered chain
# shows up there.  The queries file is what contrib/prometheus/
# make_queries.py writes from the metrics table of docs/operations.md, and
# that table names every family metrics() gives here.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use HTTP::Tiny;
use IPC::Run;
use Time::HiRes qw(usleep);
use Test::More;

my $exporter_bin = 'prometheus-postgres-exporter';
plan skip_all => "$exporter_bin is not installed (scripts/install-deps.sh)"
  unless system("sh -c 'command -v $exporter_bin' >/dev/null 2>&1") == 0;

sub slurp { my ($f) = @_; open(my $fh, '<', $f) or die "$f: $!"; local $/; return <$fh>; }

# ---- the file is generated from the documentation ---------------------------
my ($gen, $err) = ('', '');
IPC::Run::run([ 'python3', 'contrib/prometheus/make_queries.py', '.' ], '>', \$gen, '2>', \$err);
is($?, 0, 'make_queries.py runs') or diag($err);
is($gen, slurp('contrib/prometheus/queries.yaml'), 'queries.yaml is what make_queries.py writes from docs/operations.md');
my %documented = map { $_ => 1 } slurp('docs/operations.md') =~ /^\| `(wallet_ops_[a-z_]+)` \|/mg;

# ---- a cluster with one object of every kind ----------------------------------
my $node = PostgreSQL::Test::Cluster->new('exporter');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'wallet_ops'\nwallet_ops.naptime = 1\n");
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION wallet_ops;
CREATE ROLE exporter LOGIN IN ROLE pg_monitor;
CREATE TABLE ledger (k int NOT NULL, v text);
SELECT wallet_ops.enable_hash_chain('ledger', '{k}');
INSERT INTO ledger SELECT g % 4, 'v' || g FROM generate_series(1, 40) g;
SELECT wallet_ops.schedule_verification('ledger', '1 hour');
SELECT wallet_ops.schedule_digest('ledger', '1 hour');
CREATE TABLE events (id bigint, at timestamptz NOT NULL, what text) PARTITION BY RANGE (at);
SELECT wallet_ops.enforce_append_only('events');
SELECT count(*) FROM wallet_ops.manage_partitions('events', 'month');
CREATE TABLE grants (id int PRIMARY KEY, who text);
INSERT INTO grants VALUES (1, 'a'), (2, 'b');
CREATE MATERIALIZED VIEW grant_count AS SELECT who, count(*) AS n FROM grants GROUP BY who;
CREATE UNIQUE INDEX ON grant_count (who);
SELECT wallet_ops.manage_matview('grant_count');
SELECT count(*) FROM wallet_ops.run_maintenance();
});
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM wallet_ops.health_checks WHERE status <> 'ok'"), 'every check ok');

# ---- the exporter ------------------------------------------------------------------
my $http_port = PostgreSQL::Test::Cluster::get_free_port();
my $dsn = sprintf('postgresql://exporter@:%d/postgres?host=%s&sslmode=disable', $node->port, $node->host);
my ($exp_out, $exp_err) = ('', '');
my $exporter = IPC::Run::start(
	[ $exporter_bin, '--extend.query-path=contrib/prometheus/queries.yaml',
	  "--web.listen-address=127.0.0.1:$http_port", '--disable-default-metrics',
	  '--disable-settings-metrics' ],
	'<', \undef, '>', \$exp_out, '2>', \$exp_err,
	init => sub { $ENV{DATA_SOURCE_NAME} = $dsn; });

# wallet_ops samples, server label left out: { "name{labels}" => value }, and
# { family => type }
sub parse
{
	my ($text) = @_;
	my (%samples, %types);
	for my $line (split /\n/, $text)
	{
		if ($line =~ /^# TYPE (wallet_ops_\w+) (\w+)$/) { $types{$1} = $2; next; }
		next unless $line =~ /^(wallet_ops_\w+)(?:\{(.*)\})? (\S+)$/;
		my ($name, $labels, $value) = ($1, $2 // '', $3);
		my @labels = sort grep { !/^server=/ } $labels =~ /(\w+="(?:[^"\\]|\\.)*")/g;
		$samples{ $name . '{' . join(',', @labels) . '}' } = $value;
	}
	return (\%samples, \%types);
}

sub scrape
{
	for (1 .. 100)
	{
		my $r = HTTP::Tiny->new(timeout => 10)->get("http://127.0.0.1:$http_port/metrics");
		return $r->{content} if $r->{success} && $r->{content} =~ /^wallet_ops_up\{/m;
		usleep(200_000);
	}
	diag("exporter: $exp_err");
	return '';
}

sub metrics_text { return $node->safe_psql('postgres', 'SELECT wallet_ops.metrics()', extra_params => [ '-U', 'exporter' ]); }

# the figures that move with the clock
my %moving = (
	wallet_ops_worker_tick_age_seconds => 30, wallet_ops_partition_runway_seconds => 30,
	wallet_ops_partition_runway_periods => 0.001, wallet_ops_matview_staleness_seconds => 30,
	wallet_ops_chain_audit_age_seconds => 30, wallet_ops_digest_age_seconds => 30);

sub same_value
{
	my ($name, $a, $b) = @_;
	$_ = ($_ eq '+Inf' ? 9**9**9 : $_ eq '-Inf' ? -9**9**9 : $_) for ($a, $b);
	return $a eq $b if $a =~ /NaN/ || $b =~ /NaN/;
	my ($family) = $name =~ /^(\w+)\{/;
	return abs($a - $b) <= ($moving{$family} // 1e-9 * (1 + abs($a)));
}

# the worker paused, so that the figures hold still between two reads
$node->safe_psql('postgres', 'ALTER SYSTEM SET wallet_ops.enabled = off; SELECT pg_reload_conf();');
sleep 1;
my $scraped = scrape();
my $from_sql = metrics_text();
my ($want, $want_types) = parse($from_sql);
my ($got, $got_types) = parse($scraped);

is_deeply([ sort keys %$want_types ], [ sort keys %documented ],
	'metrics() gives every family docs/operations.md lists, and no other (' . scalar(keys %$want_types) . ')');
for my $family (sort keys %$want_types)
{
	is($got_types->{$family}, $want_types->{$family}, "$family is served, as a $want_types->{$family}");
}
my @missing = grep { !exists $got->{$_} } sort keys %$want;
is_deeply(\@missing, [], 'every sample of metrics() is served, with its labels');
my @extra = grep { !exists $want->{$_} } sort keys %$got;
is_deeply(\@extra, [], 'and no other wallet_ops sample');
my @differ = grep { exists $got->{$_} && !same_value($_, $want->{$_}, $got->{$_}) } sort keys %$want;
is_deeply(\@differ, [], 'with the values metrics() gives')
  or diag(join("\n", map { "$_: metrics() $want->{$_}, exporter $got->{$_}" } @differ));
is($got->{'wallet_ops_up{}'}, 1, 'wallet_ops_up 1');
is($got->{'wallet_ops_append_only_intact{table="public.events"}'}, 1, 'append_only_intact 1 for events');

# ---- a tampered chain shows up --------------------------------------------------------
$node->safe_psql('postgres', q{
SELECT wallet_ops.release_append_only('ledger');
SET session_replication_role = replica;
UPDATE ledger SET v = 'forged' WHERE k = 2 AND chain_seq = 3;
RESET session_replication_role;
SELECT count(*) FROM wallet_ops.run_verification('ledger', incremental => false);
});
($got) = parse(scrape());
is($got->{'wallet_ops_chain_problems{table="public.ledger"}'}, 1, 'the tampered chain: chain_problems 1 in the exporter');
is($got->{'wallet_ops_health_status{}'}, 2, 'health_status 2 (critical)');
is($got->{'wallet_ops_health_check_status{check="verification",object="public.ledger"}'}, 2,
	'the verification check critical');

$exporter->kill_kill;
$node->stop;

# ---- the Grafana dashboard beside it ----------------------------------------------------
use JSON::PP;
my $dash = JSON::PP->new->decode(slurp('contrib/prometheus/grafana-dashboard.json'));
my @panels = @{ $dash->{panels} };
my @titles = map { $_->{title} } @panels;
for my $want ('Health', 'Verification age', 'Chain problems', 'Partitions ahead',
	'Materialised view staleness', 'Worker errors')
{
	ok(grep({ $_ eq $want } @titles), "the dashboard has a panel \"$want\"");
}
my @exprs = map { map { $_->{expr} } @{ $_->{targets} } } @panels;
my @unknown = grep { !$want_types->{$_} } map { /\b(wallet_ops_[a-z_]+)/g } @exprs;
is_deeply(\@unknown, [], 'its queries name only families metrics() gives');
my $ops = slurp('docs/operations.md');
my @undocumented = grep { $ops !~ /^\| \Q$_\E \|/m } @titles;
is_deeply(\@undocumented, [], 'docs/operations.md describes each panel');
SKIP:
{
	skip 'promtool is not installed', 1 unless system("sh -c 'command -v promtool' >/dev/null 2>&1") == 0;
	# each query, with the dashboard's variable at its "all" value, as a
	# recording rule: promtool parses it as PromQL
	my $rules = "groups:\n- name: dashboard\n  rules:\n";
	my $i = 0;
	for my $expr (@exprs)
	{
		(my $e = $expr) =~ s/\$server/.*/g;
		$e =~ s/'/''/g;
		$rules .= sprintf("  - record: dashboard:query_%d\n    expr: '%s'\n", $i++, $e);
	}
	my $file = PostgreSQL::Test::Utils::tempdir() . '/dashboard.rules.yml';
	open(my $fh, '>', $file) or die; print $fh $rules; close $fh;
	my ($out, $perr) = ('', '');
	IPC::Run::run([ 'promtool', 'check', 'rules', $file ], '>', \$out, '2>', \$perr);
	is($? >> 8, 0, 'promtool parses every query of the dashboard (' . scalar(@exprs) . ')') or diag($out . $perr);
}

done_testing();
