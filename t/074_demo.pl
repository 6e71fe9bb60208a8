# scripts/demo.sh tells the story in one short line per step, under 60
# lines, each with the figure that matters: rows chained, ms to verify, the
# tamper found at its chain and seq, the refused UPDATE's SQLSTATE,
# partitions made, seconds from commit to fresh view.  The SQL shows only
# with VERBOSE=1.  The demo builds and installs wallet_ops itself: here into
# a private copy of PostgreSQL 15 (scripts/private-pg.sh), never into the
# installation under test.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $version = `pg_config --version`;
plan skip_all => 'the demo runs on PostgreSQL 15 (scripts/private-pg.sh copies 15)'
  unless $version =~ /PostgreSQL 15\./ && -x '/usr/lib/postgresql/15/bin/pg_config';

my $tmp = PostgreSQL::Test::Utils::tempdir();
my ($pgc, $err) = ('', '');
IPC::Run::run([ 'bash', 'scripts/private-pg.sh', "$tmp/pg" ], '>', \$pgc, '2>', \$err);
chomp $pgc;
ok(-x $pgc, 'a private copy of PostgreSQL 15') or diag($err);

sub demo
{
	my (%env) = @_;
	my $out = '';
	local $ENV{PG_CONFIG} = $pgc;
	local $ENV{SKIP_DEPS} = 1;
	local $ENV{KEEP} = 0;
	local $ENV{DEMO_PORT} = PostgreSQL::Test::Cluster::get_free_port();
	local @ENV{ keys %env } = values %env;
	IPC::Run::run([ 'bash', 'scripts/demo.sh' ], '<', \undef, '>&', \$out);
	return ($? >> 8, $out);
}

my ($rc, $out) = demo(VERBOSE => 0);
is($rc, 0, 'the demo runs') or diag($out);
note($out);
my @lines = split /\n/, $out;
cmp_ok(scalar @lines, '<', 60, 'in under 60 lines (' . scalar(@lines) . ')');
is(scalar(grep { length($_) > 160 && !/^link-verify: / } @lines), 0, 'each of them short (but the path link-verify.sh names)');
ok(!grep({ /^(SELECT|INSERT INTO|UPDATE|DELETE FROM|CREATE|ALTER|WITH|DO \$\$|\\set)\b/ } @lines), 'no SQL without VERBOSE=1');
ok(!grep({ /ERROR|NOTICE|WARNING/ } @lines), 'no server messages');
ok(-f "$tmp/pg/usr/lib/postgresql/15/lib/wallet_ops.so", 'wallet_ops was installed into the copy');

like($out, qr/^ledger: .* ([1-9]\d*) rows sealed in ([1-9]\d*) chains/m, 'rows chained');
like($out, qr/^verify: .* 2001 rows intact, checked in \d+(\.\d)? ms$/m, 'ms to verify');
like($out, qr/^tamper: .* hash_mismatch at chain 00000000-0000-4000-8000-000000000042 seq 3$/m,
	'the tamper found at its chain and seq');
like($out, qr/^ .* against the digest: 1 problem; wallet_ops_verify \(outside\): exit 1, hash_mismatch: chain "00000000-0000-4000-8000-000000000042" chain_seq 3:$/m,
	'by the digest and the outside verifier too');
like($out, qr/^refused: +UPDATE of a chained row.*: SQLSTATE 42501$/m, "the refused UPDATE's SQLSTATE");
like($out, qr/^append-only: audit_log: 7 of 7 changes refused .*: SQLSTATE 42501$/m, 'every change to audit_log refused, 42501');
like($out, qr/^partitions: +entity_history by month: [1-9]\d* made.* runway to \d{4}-\d\d-01$/m, 'partitions made for entity_history');
like($out, qr/^ +audit_log by quarter: [1-9]\d* made.* runway to \d{4}-\d\d-01$/m, 'and for audit_log');
like($out, qr/^worker: .* the worker made entity_history_\d{4}_\d\d and moved it there in \d+(\.\d)? s$/m,
	'the worker moved the row out of the default partition');
like($out, qr/^fresh: .* the view showed it \d+(\.\d)? s later, to [1-9]\d* identities/m, 'seconds from commit to fresh view');
my ($fresh_s) = $out =~ /showed it (\d+(?:\.\d)?) s later/;
cmp_ok($fresh_s // 99, '<', 10, 'within the wait, not after it gave up');
like($out, qr/^ +a rolled-back ingest: 0 views due/m, 'a rollback leaves nothing due');
like($out, qr/^tamper: +replay refused: SQLSTATE XX001; the audit finds hash_mismatch at chain \S+ seq \d+; health critical$/m,
	'replay refuses a tampered chain, health critical');
like($out, qr/^repaired: +a full verification finds 0 problems; health ok$/m, 'and ok again after the repair');
like($out, qr/^demo finished; server log: removed$/m, 'the throw-away cluster is removed');

($rc, my $verbose) = demo(VERBOSE => 1);
is($rc, 0, 'VERBOSE=1 runs');
like($verbose, qr/^SELECT wallet_ops\.enable_hash_chain\('entity_history', '\{entity_id\}'\);$/m, 'VERBOSE=1 shows the SQL');
like($verbose, qr/ERROR:  cannot update append-only table "audit_log"$/m, 'and the refusals');
like($verbose, qr/^tamper: .* hash_mismatch at chain 00000000-0000-4000-8000-000000000042 seq 3$/m, 'and the story lines');

done_testing();
