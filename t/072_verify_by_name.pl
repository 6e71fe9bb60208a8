# wallet_ops_verify runs by name.  `make install` puts it in the server's
# bindir, which on Debian is on no one's PATH; scripts/link-verify.sh (run
# by scripts/demo.sh and scripts/test.sh after installing) links it into a
# directory that is.  The script is checked with a directory of the test's
# own; the link scripts/test.sh made in /usr/local/bin is checked when the
# installation under test is the system's packaged one, as after the
# README's first command.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('by_name');
$node->init(extra => ['--encoding=UTF8', '--locale=C']);
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION wallet_ops;
CREATE TABLE ledger (k int NOT NULL, v text);
SELECT wallet_ops.enable_hash_chain('ledger', '{k}');
INSERT INTO ledger SELECT g % 3, 'v' || g FROM generate_series(1, 30) g;
});
my $bindir = $node->config_data('--bindir');
my $conninfo = $node->connstr('postgres');

# Runs wallet_ops_verify by name with only PATH to find it.
sub verify_by_name
{
	my ($path) = @_;
	my ($out, $err) = ('', '');
	local $ENV{PATH} = $path;
	my $ok = eval {
		IPC::Run::run([ 'wallet_ops_verify', $conninfo, 'public.ledger' ], '>', \$out, '2>', \$err);
		1;
	};
	return ($ok ? $? >> 8 : -1, $out, $err || $@);
}

sub link_verify
{
	my @args = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'bash', 'scripts/link-verify.sh', @args ], '>', \$out, '2>', \$err);
	return ($? >> 8, $out . $err);
}

# ---- the script, into a directory of the test's own ------------------------
my $dir = PostgreSQL::Test::Utils::tempdir();
my ($status, $said) = link_verify($bindir, $dir);
is($status, 0, 'link-verify.sh links wallet_ops_verify into the directory given') or diag($said);
is(readlink("$dir/wallet_ops_verify"), "$bindir/wallet_ops_verify", 'the link names the installed program');
my ($code, $out, $err) = verify_by_name("$dir:/usr/bin:/bin");
is($code, 0, 'wallet_ops_verify runs by name from there and finds the table intact') or diag($err);
like($out, qr/public\.ledger: 30 rows in 3 chains.*: intact$/m, 'and says so');
($status, $said) = link_verify($bindir, $dir);
is($status, 0, 'linking again replaces the link');

my $other = PostgreSQL::Test::Utils::tempdir();
open(my $fh, '>', "$other/wallet_ops_verify") or die;
print $fh "#!/bin/sh\nexit 0\n";
close($fh);
($status, $said) = link_verify($bindir, $other);
isnt($status, 0, 'a file in the way that is not a link is left alone');
like($said, qr/is not a link; left alone/, 'and the script says so');
ok(!-l "$other/wallet_ops_verify", 'the file is still a file');

($status, $said) = link_verify("$dir/nowhere", $dir);
isnt($status, 0, 'a bindir without wallet_ops_verify is refused');

($status, $said) = link_verify('/opt/private/postgresql/bin');
is($status, 0, 'without a link directory, another installation than the packaged one is not an error');
like($said, qr/is not the system's packaged PostgreSQL: wallet_ops_verify not linked/,
	'but it is not linked, and the script says so');

# ---- the link the README's install leaves -----------------------------------
SKIP:
{
	skip "$bindir is not the system's packaged PostgreSQL: scripts/test.sh links only that one", 2
	  unless $bindir =~ m{^/usr/lib/postgresql/\d+/bin$};
	is(readlink('/usr/local/bin/wallet_ops_verify'), "$bindir/wallet_ops_verify",
		'/usr/local/bin/wallet_ops_verify names the installed program');
	($code, $out, $err) = verify_by_name('/usr/local/bin:/usr/bin:/bin');
	is($code, 0, 'wallet_ops_verify runs by name with the default PATH') or diag($err);
}

done_testing();
