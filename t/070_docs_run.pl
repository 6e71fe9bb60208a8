# The documentation runs as written.  The README's quick tour is taken from
# README.md itself and fed to psql, started in the root of the repository
# as the README says, with ON_ERROR_STOP: on a fresh database of a fresh
# cluster, and again on a second database of the same cluster (roles belong
# to the cluster, so the tour must not trip over the ones it made).  The
# set-up of docs/operations.md runs the same way, with its postgresql.conf
# lines as the cluster's configuration, and its monitoring role can then
# read what the page says it can.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# The first ```LANG block of the section of FILE headed HEADING.
sub doc_block
{
	my ($file, $heading, $lang) = @_;
	my $text = slurp_file($file);
	my ($section) = $text =~ /^\Q$heading\E\n(.*?)(?=^## |\z)/ms
	  or BAIL_OUT("no section \"$heading\" in $file");
	my ($block) = $section =~ /^```\Q$lang\E\n(.*?)^```$/ms
	  or BAIL_OUT("no $lang block in section \"$heading\" of $file");
	return $block;
}

my $readme = slurp_file('README.md');
my $tour = doc_block('README.md', '## Quick tour', 'sql');
my $ops_conf = doc_block('docs/operations.md', '## 1. Set up once', 'conf');
my $ops_sql = doc_block('docs/operations.md', '## 1. Set up once', 'sql');

# The README tells where the tour comes from and how to get there.
like($tour, qr/\A\\i demo\/01_seed_schema\.sql/, 'the tour starts with \i of the seed\'s schema');
like($readme, qr/^KEEP=1 bash scripts\/demo\.sh/m, 'the README names KEEP=1 bash scripts/demo.sh');
my ($demo_port) = slurp_file('scripts/demo.sh') =~ /^port=(\d+)$/m;
like($readme, qr/psql -h \S+ -p \Q$demo_port\E -U postgres/,
	'the README shows how to connect to the cluster scripts/demo.sh leaves running');

my $node = PostgreSQL::Test::Cluster->new('docs');
$node->init(extra => ['--encoding=UTF8', '--locale=C']);
$node->append_conf('postgresql.conf', $ops_conf);
$node->start;
is($node->safe_psql('postgres', q{SELECT current_setting('shared_preload_libraries') || ' ' || current_setting('wallet_ops.lock_timeout')}),
	'wallet_ops 2s', 'the server starts with the postgresql.conf lines of docs/operations.md');

# psql reads the block on its standard input, as pasted; \i paths are
# relative to the directory psql was started in, the repository's root here.
for my $db ('tour', 'tour_again')
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	my ($ret, $out, $err) = $node->psql($db, $tour, on_error_stop => 1);
	is($ret, 0, "the README's quick tour runs top to bottom on the fresh database $db")
	  or diag($err);
	unlike($err, qr/ERROR/, "$db: no error on the way");
	unlike($err, qr/without CONCURRENTLY/, "$db: mv_effective_access is refreshed CONCURRENTLY, as the tour says");
	like($out, qr/^verification\|public\.entity_history\|ok\|never verified, every 1 day$/m,
		"$db: health_checks shows the nightly audit, in words");
	ok($node->poll_query_until($db, q{SELECT status FROM wallet_ops.health_checks WHERE check_name = 'worker'}, 'ok'),
		"$db: the worker serves the database");
}
is($node->safe_psql('tour', q{SELECT has_table_privilege('wallet_ingest', 'audit_log', 'INSERT')
                               AND NOT has_table_privilege('wallet_ingest', 'audit_log', 'DELETE')}),
	't', 'the tour gave wallet_ingest INSERT only');
is($node->safe_psql('tour', q{SELECT string_agg(object || ' ' || kind, ', ' ORDER BY object, kind) FROM wallet_ops.status}),
	'public.audit_log append_only, public.audit_log partitions, public.entity_history append_only, '
	  . 'public.entity_history hash_chain, public.entity_history partitions, public.mv_effective_access matview',
	'the tour manages what it says');

# docs/operations.md, on the seed's schema
$node->safe_psql('postgres', 'CREATE DATABASE ops');
my ($ret, $out, $err) = $node->psql('ops', "\\i demo/01_seed_schema.sql\n" . $ops_sql, on_error_stop => 1);
is($ret, 0, 'the set-up of docs/operations.md runs as written') or diag($err);
is($node->safe_psql('ops', q{SELECT every || ' ' || full_every FROM wallet_ops.verification_schedule}),
	'1 day 7 days', 'the nightly audit is scheduled, in full once a week');
for my $query (q{SELECT count(*) > 0 FROM wallet_ops.health_checks}, q{SELECT count(*) > 0 FROM wallet_ops.status},
	q{SELECT wallet_ops.health() IS NOT NULL}, q{SELECT wallet_ops.metrics() LIKE '%wallet_ops_up 1%'})
{
	is($node->safe_psql('ops', $query, extra_params => [ '-U', 'monitoring' ]), 't',
		"the role monitoring reads: $query");
}
$node->safe_psql('postgres', 'CREATE ROLE outsider LOGIN');
($ret, $out, $err) = $node->psql('ops', 'SELECT wallet_ops.health()', extra_params => [ '-U', 'outsider' ]);
like($err, qr/permission denied for function health/,
	'a role outside pg_monitor gets PostgreSQL\'s own error, which docs/operations.md explains');
like(slurp_file('docs/operations.md'), qr/permission denied for function\s+health`.{0,40}which has no hint: `GRANT pg_monitor TO\s+<role>`/s,
	'and docs/operations.md says what to grant');

done_testing();
