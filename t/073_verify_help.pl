# wallet_ops_verify documents itself: --help lists every option the program
# accepts (read from its source, so a new option without help fails here),
# after a subcommand too; the manual page names every option, subcommand,
# problem and exit status (the statuses as docs/compliance.md gives them),
# renders without a warning, and `make install` put it in
# $(pg_config --mandir)/man1.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use IPC::Run;
use File::Compare;
use Test::More;

sub slurp_file_utf8 { my ($f) = @_; open(my $fh, '<', $f) or die "$f: $!"; local $/; return <$fh>; }

sub run_cmd
{
	my @cmd = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(\@cmd, '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

my $source = slurp_file_utf8('tools/wallet_ops_verify.c');
my $page_file = 'docs/man/wallet_ops_verify.1';
my $page = slurp_file_utf8($page_file);

# ---- what the program accepts, from its source ----------------------------
my (%long, %short);
while ($source =~ /struct option long_options\[\] = \{(.*?)\n\t\};/sg)
{
	my $block = $1;
	$long{$1} = 1 while $block =~ /\{"([a-z-]+)",/g;
}
while ($source =~ /getopt_long\(argc, argv, "([^"]*)"/g)
{
	$short{$_} = 1 for grep { $_ ne ':' } split //, $1;
}
# for the tests only (t/016), on purpose not in --help
delete $long{'list-type-tags'};
ok(keys %long >= 14, 'the long options are read from the source: ' . join(' ', sort keys %long));
ok(keys %short >= 8, 'the short options too: ' . join(' ', sort keys %short));
my @subcommands = $source =~ /^\t\{"([a-z]+)", [a-z]+_main\},$/mg;
my %subcommand = map { $_ => 1 } @subcommands;
ok($subcommand{digest} && $subcommand{keygen}, 'the subcommands are read from the source: ' . join(' ', sort @subcommands));

# ---- --help ----------------------------------------------------------------
my ($rc, $help, $err) = run_cmd('wallet_ops_verify', '--help');
is($rc, 0, '--help exits 0');
is($err, '', '--help writes nothing to standard error');
for my $opt (sort keys %long)
{
	like($help, qr/--\Q$opt\E\b/, "--help lists --$opt");
}
for my $opt (sort keys %short)
{
	like($help, qr/(?:^|\s)-\Q$opt\E,\s+--/m, "--help lists -$opt with its long form");
}
for my $sub (@subcommands)
{
	like($help, qr/^  wallet_ops_verify \Q$sub\E /m, "--help gives the usage of $sub");
	for my $ask ('--help', '-?')
	{
		my ($src, $sout, $serr) = run_cmd('wallet_ops_verify', $sub, $ask);
		is($src, 0, "$sub $ask exits 0");
		is($sout, $help, "$sub $ask prints the same help");
	}
}
my ($qrc, $qout) = run_cmd('wallet_ops_verify', '-?');
is($qout, $help, '-? is --help');
# -h stays the host: with it, a connection is tried, not help shown
my ($hrc, $hout, $herr) = run_cmd('wallet_ops_verify', '-h', '/nonexistent', '-p', '1', 'public.t');
is($hrc, 2, '-h is still the host (exit 2: no server there)');
like($herr, qr/error: connection to server on socket "\/nonexistent/, 'and the connection to that host failed');

# ---- the manual page ---------------------------------------------------------
my $mandir = `pg_config --mandir`;
chomp $mandir;
my $installed = "$mandir/man1/wallet_ops_verify.1";
ok(-f $installed, "make install put the page in $installed");
is(compare($installed, $page_file), 0, 'and it is the page of this tree');

(my $plain = $page) =~ s/\\-/-/g;
for my $opt (sort keys %long)
{
	like($plain, qr/^\.B[IR]? (?:.*\s)?--\Q$opt\E(?![\w-])/m, "the page describes --$opt");
}
for my $opt (sort keys %short)
{
	like($plain, qr/^\.B[IR]? (?:.*\s)?-\Q$opt\E(?![\w-])/m, "the page describes -$opt");
}
for my $sub (@subcommands)
{
	like($page, qr/^\.SY "wallet_ops_verify \Q$sub\E"/m, "the synopsis has $sub");
	like($page, qr/^\.BI? \Q$sub\E\b/m, "the page describes $sub");
}
my %problems = map { $_ => 1 } $source =~ /problem\([^;]*?"([a-z_]+)",/sg;
$problems{$_} = 1 for $source =~ /"(signature_mismatch|signature_missing|signing_key_unknown)"/g;
ok(keys %problems >= 9, 'the problems the program reports: ' . join(' ', sort keys %problems));
my ($problem_section) = $page =~ /^\.SH PROBLEMS\n(.*?)^\.SH /ms;
for my $p (sort keys %problems)
{
	like($problem_section, qr/^\.B \Q$p\E$/m, "the page explains $p");
}

# exit statuses: the page says what docs/compliance.md says
my $compliance = slurp_file_utf8('docs/compliance.md');
my ($table) = $compliance =~ /\*\*Exit status\*\*.*?\n\n(\|.*?)\n\n/s;
my %meaning;
for my $row (split /\n/, $table)
{
	next unless $row =~ /^\|\s*(\d+)\s*\|\s*(.*?)\s*\|$/;
	my ($code, $text) = ($1, $2);
	$text =~ s/\*//g;
	my ($lead) = $text =~ /^([a-z ]+?)\s*[:(]/i;
	$meaning{$code} = lc $lead;
}
is_deeply([ sort keys %meaning ], [ 0, 1, 2 ], 'docs/compliance.md gives exit statuses 0, 1 and 2')
  or diag($table);
my ($exit_section) = $page =~ /^\.SH "EXIT STATUS"\n(.*?)^\.SH /ms;
my %page_codes = $exit_section =~ /^\.B (\d+)\n([^\n]*)/mg;
is_deeply([ sort keys %page_codes ], [ sort keys %meaning ], 'the page documents the same exit statuses');
for my $code (sort keys %meaning)
{
	like(lc($page_codes{$code} // ''), qr/^\Q$meaning{$code}\E\b/, "exit status $code: \"$meaning{$code}\", as in docs/compliance.md");
	like(lc $help, qr/\b$code \Q$meaning{$code}\E\b/, "and as --help says");
}

# ---- it renders without a warning --------------------------------------------
($rc, my $out, $err) = run_cmd('groff', '-man', '-ww', '-z', $page_file);
is($rc, 0, 'groff -man -ww -z accepts the page');
is($err, '', 'without a warning');
($rc, $out, $err) = run_cmd('man', '--warnings', '-E', 'UTF-8', '-l', $page_file);
is($rc, 0, 'man -l renders it');
is($err, '', 'without a warning');
like($out, qr/EXIT STATUS/, 'with its sections');
SKIP:
{
	skip 'mandoc is not installed', 2 unless `sh -c 'command -v mandoc'`;
	($rc, $out, $err) = run_cmd('mandoc', '-Tlint', '-W', 'warning', $page_file);
	is($rc, 0, 'mandoc -Tlint finds nothing to say');
	is($out . $err, '', 'and says nothing');
}

done_testing();
