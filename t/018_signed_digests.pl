# Signed digests, end to end: a key pair from wallet_ops_verify keygen, a
# digest signed outside the database by wallet_ops_verify digest
# --sign-key, checked outside (--trusted-key) and inside (after
# trust_digest_key) with the same outcome: intact; an edited signed field
# (signature_mismatch), an edited chain (digest_mismatch), a key nobody
# trusts (signing_key_unknown), a revoked key (signing_key_revoked, inside),
# an unsigned digest where a signature is required (signature_missing,
# outside).  The private key is never read by the server.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('signed_digests');
$node->init(extra => ['--encoding=UTF8', '--locale=C']);
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'wallet_ops'\nwallet_ops.naptime = 3600\n");
$node->start;
my $db = 'postgres';
my $dir = $node->basedir;

sub cmd
{
	my (@args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'wallet_ops_verify', @args ], '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	note(join(' ', 'wallet_ops_verify', @args) . " -> $rc\n$out$err");
	return ($rc, $out, $err);
}

# the problem names of the command's output and of an SQL function, sorted
sub cmd_problems
{
	my ($out) = @_;
	return join(',', sort map { /^(\w+): chain / ? $1 : () } split /\n/, $out);
}

sub sql_problems
{
	my ($fn, $digest) = @_;
	$digest =~ s/'/''/g;
	return join(',', sort split /\n/,
		$node->safe_psql($db, "SELECT problem FROM wallet_ops.$fn('app.ledger', '$digest')"));
}

$node->safe_psql($db, q{
CREATE EXTENSION wallet_ops;
CREATE SCHEMA app;
CREATE TABLE app.ledger (entity_id int NOT NULL, memo text, amount numeric);
SELECT wallet_ops.enable_hash_chain('app.ledger', '{entity_id}');
INSERT INTO app.ledger SELECT g % 10, 'Überweisung ' || g, g * 1.5 FROM generate_series(1, 200) g;
});

# ---- keys ----------------------------------------------------------------
my ($rc, $out, $err) = cmd('keygen', "$dir/audit");
is($rc, 0, 'keygen: exit 0');
my ($key_id) = $out =~ /^key id:\s+([0-9a-f]{64})$/m;
ok(defined $key_id, 'keygen prints the key id');
is(sprintf('%04o', (stat("$dir/audit.key"))[2] & 07777), '0600', 'the private key file is mode 0600');
like(slurp_file("$dir/audit.pub"), qr/^-----BEGIN PUBLIC KEY-----\n/, 'the public key is PEM');
($rc, $out, $err) = cmd('keygen', "$dir/audit");
is($rc, 2, 'keygen never overwrites a key');
like($err, qr/could not create file ".*audit\.key": File exists/, 'and says why');
cmd('keygen', "$dir/other");

# ---- a signed digest -----------------------------------------------------
my $conn = $node->connstr($db);
($rc, $out, $err) = cmd('digest', '--sign-key', "$dir/audit.key", '-o', "$dir/signed.json", $conn, 'app.ledger');
is($rc, 0, 'digest --sign-key: exit 0');
my $signed = slurp_file("$dir/signed.json");
like($signed, qr/"signature": \{"algorithm": "ed25519", "key_id": "$key_id", "value": "[0-9a-f]{128}"\}\}\n$/,
	'the digest carries its signature');
($rc, $out) = cmd('digest', $conn, 'app.ledger');
unlike($out, qr/signature/, 'digest without --sign-key: unsigned');
($rc, $out, $err) = cmd('digest', '--sign-key', "$dir/audit.pub", $conn, 'app.ledger');
is($rc, 2, 'digest --sign-key with a public key: exit 2');

# outside
($rc, $out) = cmd('--digest', "$dir/signed.json", '--trusted-key', "$dir/audit.pub", $conn, 'app.ledger');
is($rc, 0, 'outside: a signed digest verifies with its key');
like($out, qr/, signature valid: intact$/m, 'outside: the summary says the signature is valid');
($rc, $out) = cmd('--digest', "$dir/signed.json", $conn, 'app.ledger');
like($out, qr/signature not checked \(no --trusted-key\): intact$/m, 'outside, no --trusted-key: not checked, said so');

# inside
is(sql_problems('verify_against_digest', $signed), 'signing_key_unknown', 'inside: a key not yet trusted');
my $pub = slurp_file("$dir/audit.pub");
is($node->safe_psql($db, "SELECT wallet_ops.trust_digest_key('audit', \$k\$$pub\$k\$)"), $key_id,
	'trust_digest_key returns the key id keygen printed');
is(sql_problems('verify_against_digest', $signed), '', 'inside: the digest signed outside verifies');
is(sql_problems('verify_since_digest', $signed), '', 'inside: verify_since_digest too');

# the same outcome on both sides for each edit
my %edits = (
	'a signed field edited' => [ sub { $_[0] =~ s/"row_count": (\d+)/'"row_count": ' . ($1 + 1)/e }, 'signature_mismatch' ],
	'the time edited' => [ sub { $_[0] =~ s/"taken_at": "\d{4}/"taken_at": "1999/ }, 'signature_mismatch' ],
	'a chain edited' => [ sub { $_[0] =~ s/"last_seq": (\d+)/'"last_seq": ' . ($1 - 1)/e }, 'digest_mismatch,digest_mismatch' ],
	'the signature edited' => [ sub { $_[0] =~ s/("value": ")([0-9a-f])/$1 . ($2 eq '0' ? '1' : '0')/e }, 'signature_mismatch' ],
	'the key id edited' => [ sub { $_[0] =~ s/("key_id": ")([0-9a-f])/$1 . ($2 eq '0' ? '1' : '0')/e }, 'signing_key_unknown' ],
);
for my $what (sort keys %edits)
{
	my ($edit, $want) = @{ $edits{$what} };
	my $copy = $signed;
	$edit->($copy);
	isnt($copy, $signed, "$what: the file differs");
	my $file = "$dir/edited.json";
	unlink $file;
	append_to_file($file, $copy);
	($rc, $out) = cmd('--digest', $file, '--trusted-key', "$dir/audit.pub", $conn, 'app.ledger');
	is("$rc " . cmd_problems($out), "1 $want", "$what: outside, exit 1 and $want");
	is(sql_problems('verify_against_digest', $copy), $want, "$what: inside, $want");
}

# keys
($rc, $out) = cmd('--digest', "$dir/signed.json", '--trusted-key', "$dir/other.pub", $conn, 'app.ledger');
is("$rc " . cmd_problems($out), '1 signing_key_unknown', 'outside: signed by a key not given');
($rc, $out) = cmd('--digest', "$dir/signed.json", '--trusted-key', "$dir/other.pub", '--trusted-key', "$dir/audit.pub", $conn, 'app.ledger');
is($rc, 0, 'outside: one of several --trusted-key keys');
cmd('digest', '-o', "$dir/unsigned.json", $conn, 'app.ledger');
($rc, $out) = cmd('--digest', "$dir/unsigned.json", '--trusted-key', "$dir/audit.pub", $conn, 'app.ledger');
is("$rc " . cmd_problems($out), '1 signature_missing', 'outside: --trusted-key requires a signature');
($rc, $out, $err) = cmd('--digest', "$dir/signed.json", '--trusted-key', "$dir/audit.key", $conn, 'app.ledger');
is($rc, 2, 'outside: a private key as --trusted-key cannot be read as a public key');

$node->safe_psql($db, "SELECT wallet_ops.revoke_digest_key('audit')");
is(sql_problems('verify_against_digest', $signed), 'signing_key_revoked', 'inside: a revoked key');

# a digest signed after more rows were added, by another key
$node->safe_psql($db, q{INSERT INTO app.ledger VALUES (3, 'later', 1)});
cmd('digest', '--sign-key', "$dir/other.key", '-o', "$dir/signed2.json", $conn, 'app.ledger');
my $other = slurp_file("$dir/other.pub");
$node->safe_psql($db, "SELECT wallet_ops.trust_digest_key('other', \$k\$$other\$k\$)");
is(sql_problems('verify_against_digest', slurp_file("$dir/signed2.json")), '', 'a second key, trusted: intact');

$node->stop;
done_testing();
