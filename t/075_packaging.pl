# Packaging: the Debian package postgresql-15-wallet-ops built from debian/
# with pg_buildext (scripts/build-deb.sh, lintian clean) installs a working
# extension, and make dist ships what META.json promises.
#
# The package is never installed on this machine (dpkg -i would replace the
# packaged PostgreSQL's wallet_ops that other tests use): it is extracted
# with dpkg-deb -x over a private copy of PostgreSQL 15
# (scripts/private-pg.sh) from which every wallet_ops file was removed
# first, and used there on a fresh cluster with the extension preloaded.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use File::Basename;
use IPC::Run;
use Test::More;

sub run_cmd
{
	my @cmd = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(\@cmd, '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

sub have { return system("sh -c 'command -v $_[0]' >/dev/null 2>&1") == 0; }

my $tmp = PostgreSQL::Test::Utils::tempdir();

# ---- make dist ---------------------------------------------------------------
my ($rc, $out, $err) = run_cmd('make', '-s', 'dist');
is($rc, 0, 'make dist') or diag($out . $err);
my $tarball = 'wallet_ops-1.1.0.tar.gz';
ok(-f $tarball, "it makes $tarball");
($rc, $out) = run_cmd('tar', '-tzf', $tarball);
my %in_dist = map { $_ => 1 } split /\n/, $out;
for my $f (qw(META.json Makefile wallet_ops.control wallet_ops--1.1.0.sql wallet_ops--1.0.0.sql
	wallet_ops--1.0.0--1.1.0.sql tools/wallet_ops_verify.c docs/man/wallet_ops_verify.1 debian/rules))
{
	ok($in_dist{"wallet_ops-1.1.0/$f"}, "the tarball holds $f");
}
is(scalar(grep { m{\.(o|so|bc)$|/tmp_check|/results/} } keys %in_dist), 0, 'and nothing a build or a test left');
($rc) = run_cmd('tar', '-C', $tmp, '-xzf', $tarball);
($rc, $out) = run_cmd('python3', "$tmp/wallet_ops-1.1.0/tools/check_meta.py", "$tmp/wallet_ops-1.1.0");
is($rc, 0, 'META.json of the tarball is valid (PGXN meta spec v1) and names its files') or diag($out);
unlink $tarball;

# ---- the Debian package --------------------------------------------------------
SKIP:
{
	my $version = `pg_config --version`;
	skip 'the package is built for the PostgreSQL 15 of Debian 12', 1
	  unless $version =~ /PostgreSQL 15\./ && -x '/usr/lib/postgresql/15/bin/pg_config';
	skip 'dpkg-buildpackage, pg_buildext or lintian missing (scripts/install-deps.sh)', 1
	  unless have('dpkg-buildpackage') && have('pg_buildext') && have('lintian') && have('dh');

	($rc, $out, $err) = run_cmd('bash', 'scripts/build-deb.sh', "$tmp/debs");
	is($rc, 0, 'scripts/build-deb.sh builds the package') or diag($out . $err);
	like($out, qr/lintian clean/, 'lintian finds no error or warning');
	my ($deb) = glob("$tmp/debs/postgresql-15-wallet-ops_1.1.0-*_*.deb");
	ok($deb && -f $deb, 'postgresql-15-wallet-ops_1.1.0 built') or skip 'no package', 1;
	($rc, $out) = run_cmd('dpkg-deb', '-f', $deb, 'Package', 'Depends');
	like($out, qr/^Package: postgresql-15-wallet-ops$/m, 'named as pg_buildext names it');
	like($out, qr/^Depends: .*\bpostgresql-15\b/m, 'depends on postgresql-15');
	like($out, qr/^Depends: .*\blibssl/m, 'and on OpenSSL');

	# a private PostgreSQL 15 without any wallet_ops file
	($rc, my $pgc) = run_cmd('bash', 'scripts/private-pg.sh', "$tmp/pg");
	chomp $pgc;
	my $root = "$tmp/pg";
	my $pgdir = "$root/usr/lib/postgresql/15";
	my $share = "$root/usr/share/postgresql/15";
	system('rm', '-rf', glob("$pgdir/lib/wallet_ops.so $pgdir/lib/bitcode/wallet_ops* $share/extension/wallet_ops*"),
		"$pgdir/bin/wallet_ops_verify", "$share/man/man1/wallet_ops_verify.1");
	ok(!-e "$pgdir/lib/wallet_ops.so" && !glob("$share/extension/wallet_ops*"), 'the private copy has no wallet_ops');

	($rc, $out, $err) = run_cmd('dpkg-deb', '-x', $deb, $root);
	is($rc, 0, 'dpkg-deb -x extracts the package over it') or diag($err);
	for my $f ("$pgdir/lib/wallet_ops.so", "$share/extension/wallet_ops.control",
		"$share/extension/wallet_ops--1.1.0.sql", "$share/extension/wallet_ops--1.0.0.sql",
		"$share/extension/wallet_ops--1.0.0--1.1.0.sql", "$pgdir/bin/wallet_ops_verify",
		"$share/man/man1/wallet_ops_verify.1", "$root/usr/share/man/man1/wallet_ops_verify.1.gz",
		"$root/usr/share/doc/postgresql-15-wallet-ops/copyright")
	{
		ok(-f $f, 'the package installs ' . substr($f, length $root));
	}
	ok(-l "$root/usr/bin/wallet_ops_verify", '/usr/bin/wallet_ops_verify is a link');
	is(readlink("$root/usr/bin/wallet_ops_verify"), '../lib/postgresql/15/bin/wallet_ops_verify',
		'to the program in the server\'s bindir, relative');
	($rc, $out, $err) = run_cmd('man', '--warnings', '-l', "$root/usr/share/man/man1/wallet_ops_verify.1.gz");
	ok($rc == 0 && $err eq '' && $out =~ /EXIT STATUS/, 'its manual page renders without a warning') or diag($err);

	# a fresh cluster of that copy, the extension preloaded
	my $node = PostgreSQL::Test::Cluster->new('deb', install_path => $pgdir);
	$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'wallet_ops'\nwallet_ops.naptime = 1\n");
	$node->start;
	is($node->safe_psql('postgres', 'SHOW data_directory'), $node->data_dir, 'the cluster runs');
	$node->safe_psql('postgres', q{
CREATE EXTENSION wallet_ops;
CREATE TABLE ledger (k int NOT NULL, v text);
SELECT wallet_ops.enable_hash_chain('ledger', '{k}');
INSERT INTO ledger SELECT g % 5, 'v' || g FROM generate_series(1, 100) g;
});
	is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'wallet_ops'"),
		'1.1.0', 'CREATE EXTENSION wallet_ops gives 1.1.0');
	is($node->safe_psql('postgres', "SELECT count(*) FROM wallet_ops.verify_chain('ledger')"),
		'0', 'a chained table verifies');
	ok($node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type LIKE 'wallet_ops%'"),
		'the preloaded library from the package runs its worker');
	$node->safe_psql('postgres', q{
CREATE DATABASE old;
});
	$node->safe_psql('old', q{
CREATE EXTENSION wallet_ops VERSION '1.0.0';
ALTER EXTENSION wallet_ops UPDATE;
});
	is($node->safe_psql('old', "SELECT extversion FROM pg_extension WHERE extname = 'wallet_ops'"),
		'1.1.0', 'and 1.0.0 updates to 1.1.0 with the packaged upgrade script');

	($rc, $out, $err) = run_cmd("$root/usr/bin/wallet_ops_verify", $node->connstr('postgres'), 'public.ledger');
	is($rc, 0, 'wallet_ops_verify from the package, through /usr/bin: exit 0') or diag($err);
	like($out, qr/^public\.ledger: 100 rows in 5 chains: intact$/m, 'the table is intact');
	$node->stop;
}

done_testing();
