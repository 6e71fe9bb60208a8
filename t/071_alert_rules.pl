# The alert rules of docs/operations.md against real metrics() output.
#
# Every metric the rules name must have a sample for every object it is
# about from the moment that object is managed, before anything was
# verified, refreshed or failed: a rule over a series that does not exist
# yet is silent exactly when it matters.  Then Prometheus' own rule tester
# (promtool, from the Debian package prometheus) loads the rules and is fed
# two scrapes of metrics(), taken as of three days after the objects were
# managed: one before a refresh failed, one after.  The audit alert must
# fire for the chained tables nobody verified, the failure alert for the
# view whose refresh failed, and the others as the state says.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $ops = slurp_file('docs/operations.md');
my ($section) = $ops =~ /^## 3\. What to alert on\n(.*?)(?=^## )/ms
  or BAIL_OUT('no section "3. What to alert on" in docs/operations.md');
my ($rules) = $section =~ /^```yaml\n(.*?)^```$/ms
  or BAIL_OUT('no yaml block in section 3 of docs/operations.md');
my %alerts = map { $_ => 1 } $rules =~ /^\s*- alert: (\w+)/mg;
my %used = map { $_ => 1 } map { /\b(wallet_ops_[a-z_]+)\b/g } $rules =~ /^\s*expr: (.*)$/mg;
ok(keys(%alerts) >= 10, scalar(keys %alerts) . ' alert rules found in docs/operations.md');

# No worker: nothing is verified or refreshed behind the test's back.
my $node = PostgreSQL::Test::Cluster->new('alerts');
$node->init(extra => ['--encoding=UTF8', '--locale=C']);
$node->start;
my $db = 'postgres';
$node->safe_psql($db, q{
CREATE EXTENSION wallet_ops;
CREATE TABLE events (at timestamptz NOT NULL, v int) PARTITION BY RANGE (at);
SELECT count(*) FROM wallet_ops.manage_partitions('events', 'month');
CREATE TABLE ledger (k int NOT NULL, v text);
SELECT wallet_ops.enable_hash_chain('ledger', '{k}');
CREATE TABLE ledger_scheduled (k int NOT NULL, v text);
SELECT wallet_ops.enable_hash_chain('ledger_scheduled', '{k}');
SELECT wallet_ops.schedule_verification('ledger_scheduled', '1 day');
CREATE TABLE audit (x int);
SELECT wallet_ops.enforce_append_only('audit');
CREATE TABLE src (id int PRIMARY KEY, v int);
INSERT INTO src VALUES (1, 1);
CREATE MATERIALIZED VIEW ratios AS SELECT id, 10 / v AS r FROM src;
CREATE UNIQUE INDEX ON ratios (id);
SELECT wallet_ops.manage_matview('ratios');
SELECT wallet_ops.refresh_matview('ratios');
});

# Samples: "name{labels}" => value, from one metrics() text.
sub samples
{
	my ($text) = @_;
	my %s;
	for (split /\n/, $text)
	{
		next if /^#/ || !/\S/;
		/^(\S+) (\S+)$/ or die "not a sample line: $_";
		$s{$1} = $2;
	}
	return \%s;
}

# ---- every figure a rule uses exists from the moment of managing ---------
my $now = samples($node->safe_psql($db, 'SELECT wallet_ops.metrics()'));
my %names = map { (/^([a-z_]+)/)[0] => 1 } keys %$now;
for my $metric (sort keys %used)
{
	ok($names{$metric}, "$metric, used by an alert rule, has samples right after the objects are managed");
}
for my $object (split /\n/, $node->safe_psql($db, q{SELECT object || ' ' || kind FROM wallet_ops.status}))
{
	my ($name, $kind) = split / /, $object;
	ok(exists $now->{"wallet_ops_job_failures{object=\"$name\",kind=\"$kind\"}"},
		"wallet_ops_job_failures has a sample for $name ($kind) before any failure");
}
for my $table ('public.ledger', 'public.ledger_scheduled')
{
	ok(exists $now->{"wallet_ops_chain_audit_age_seconds{table=\"$table\"}"},
		"wallet_ops_chain_audit_age_seconds has a sample for $table, never verified");
}

# ---- the rules, in Prometheus' rule tester --------------------------------
my ($promtool) = grep { -x } map { "$_/promtool" } split /:/, $ENV{PATH};
SKIP:
{
	skip 'promtool is not installed (Debian package prometheus; scripts/install-deps.sh installs it)', 4
	  unless $promtool;

	my $dir = PostgreSQL::Test::Utils::tempdir();
	open(my $fh, '>', "$dir/rules.yml") or die;
	print $fh $rules;
	close($fh);
	my ($out, $err) = ('', '');
	IPC::Run::run([ $promtool, 'check', 'rules', "$dir/rules.yml" ], '>', \$out, '2>', \$err);
	is($?, 0, 'promtool check rules accepts the rules of docs/operations.md') or diag("$out$err");

	# two scrapes, as of three days after managing: before and after a
	# refresh of ratios failed (a division by zero)
	my $at = q{SELECT wallet_ops._metrics_at(now() + interval '3 days')};
	my $before = samples($node->safe_psql($db, $at));
	$node->safe_psql($db, q{INSERT INTO src VALUES (2, 0)});
	is($node->safe_psql($db, q{SELECT action FROM wallet_ops.run_maintenance('ratios')}), 'error',
		'the refresh of ratios fails');
	my $after = samples($node->safe_psql($db, $at));

	# 31 samples a minute apart of the first scrape, then 30 of the second
	my $series = '';
	for my $s (sort(keys %{ { %$before, %$after } }))
	{
		my @v = ((($before->{$s}) // '_') x 31, (($after->{$s}) // '_') x 30);
		(my $q = $s) =~ s/'/''/g;
		$series .= "  - series: '$q'\n    values: '@v'\n";
	}
	my $expect = sub {
		my ($time, $alert, @labels) = @_;
		my $e = "  - eval_time: $time\n    alertname: $alert\n    exp_alerts:";
		return "$e []\n" unless @labels;
		$e .= "\n";
		for my $l (@labels)
		{
			$e .= "    - exp_labels: {" . join(', ', map { "$_: '$l->{$_}'" } sort keys %$l) . "}\n";
		}
		return $e;
	};
	my $tests = join('',
		# not preloaded: the worker check of health() is critical, but the
		# worker is not "down" (it cannot run)
		$expect->('20m', 'WalletOpsCritical', {}),
		$expect->('20m', 'WalletOpsWorkerDown'),
		# no ticks, but that is the critical check's business; no shortage
		$expect->('20m', 'WalletOpsTicksLate'),
		$expect->('20m', 'WalletOpsWorkerSlotsShort'),
		$expect->('20m', 'WalletOpsScrapeMissing'),
		$expect->('20m', 'WalletOpsChainProblems'),
		$expect->('20m', 'WalletOpsInsertMayFail'),
		$expect->('20m', 'WalletOpsRunwayShort'),
		$expect->('20m', 'WalletOpsDefaultRows'),
		# the chained tables nobody verified, scheduled or not
		$expect->('20m', 'WalletOpsAuditOverdue', { table => 'public.ledger' }, { table => 'public.ledger_scheduled' }),
		# the view is fresh until its source changes and the refresh fails
		$expect->('20m', 'WalletOpsViewStale'),
		$expect->('50m', 'WalletOpsViewStale', { check => 'staleness', object => 'public.ratios' }),
		# the failure counter had a baseline of 0
		$expect->('20m', 'WalletOpsRunsFailing'),
		$expect->('50m', 'WalletOpsRunsFailing', { object => 'public.ratios', kind => 'matview' }));
	my %tested = map { $_ => 1 } $tests =~ /alertname: (\w+)/g;
	is_deeply([ grep { !$tested{$_} } sort keys %alerts ], [], 'every alert rule of docs/operations.md is tested');

	open($fh, '>', "$dir/tests.yml") or die;
	print $fh "rule_files:\n  - rules.yml\nevaluation_interval: 1m\ntests:\n- interval: 1m\n  input_series:\n$series"
	  . "  alert_rule_test:\n$tests";
	close($fh);
	($out, $err) = ('', '');
	IPC::Run::run([ $promtool, 'test', 'rules', "$dir/tests.yml" ], '>', \$out, '2>', \$err);
	is($?, 0, 'promtool test rules: each alert fires exactly as the state of the scrapes says')
	  or diag("$out$err\n" . slurp_file("$dir/tests.yml"));
}

done_testing();
