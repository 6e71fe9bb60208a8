# Proofs for one chain, end to end: a table of 10,000 chains, a digest
# signed outside by wallet_ops_verify digest --sign-key, the proof of one
# chain made by wallet_ops.chain_proof() and checked offline by
# wallet_ops_verify prove: a path of at most 14 hashes, no other chain in
# the proof, the signature checked with --trusted-key.  Every edit of a
# proof is refused: its leaf (last_seq, head_hash, chain_key), its path (a
# sibling, a side, a step), its leaf_index, its merkle_root, a signed field;
# a proof of another chain, a key nobody trusts and an unsigned proof where
# a signature is required as well.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('chain_proof');
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

# the problem names of the command's output, sorted
sub problems
{
	my ($out) = @_;
	return join(',', sort map { /^(\w+): chain / ? $1 : () } split /\n/, $out);
}

sub sql_quote
{
	my ($s) = @_;
	$s =~ s/'/''/g;
	return "'$s'";
}

# prove on a proof edited by $edit (a sub changing $_), with @opts
sub prove_edited
{
	my ($proof, $edit, @opts) = @_;
	local $_ = $proof;
	$edit->();
	isnt($_, $proof, 'the edit changed the proof') or return (-1, '', '');
	my $file = "$dir/edited.json";
	unlink $file;
	open(my $fh, '>', $file) or die "cannot write $file: $!";
	print $fh $_;
	close $fh;
	return cmd('prove', '--digest', $file, @opts);
}

$node->safe_psql($db, q{
CREATE EXTENSION wallet_ops;
CREATE SCHEMA app;
CREATE TABLE app.accounts (customer_id int NOT NULL, memo text, amount numeric);
SELECT wallet_ops.enable_hash_chain('app.accounts', '{customer_id}');
INSERT INTO app.accounts SELECT g, 'opening', 0 FROM generate_series(1, 10000) g;
INSERT INTO app.accounts SELECT g % 100 + 1, 'payment ' || g, g * 1.25 FROM generate_series(1, 500) g;
});
is($node->safe_psql($db, 'SELECT count(*) FROM wallet_ops.chain_heads'), '10000', '10,000 chains');

# ---- a signed digest and the proof of one chain ----------------------------
my $conn = $node->connstr($db);
cmd('keygen', "$dir/audit");
cmd('keygen', "$dir/other");
my ($rc, $out, $err) = cmd('digest', '--sign-key', "$dir/audit.key", '-o', "$dir/signed.json", $conn, 'app.accounts');
is($rc, 0, 'digest --sign-key: exit 0');
my $signed = slurp_file("$dir/signed.json");
$node->safe_psql($db, 'SELECT wallet_ops.trust_digest_key(\'audit\', ' . sql_quote(slurp_file("$dir/audit.pub")) . ')');

sub proof_of
{
	my ($key, $digest) = @_;
	return $node->safe_psql($db,
		'SELECT wallet_ops.chain_proof(\'app.accounts\', ' . sql_quote($key) . ', '
		  . sql_quote($digest) . ')');
}

my $proof = proof_of('42', $signed);
open(my $fh, '>', "$dir/proof.json") or die;
print $fh $proof;
close $fh;
my @steps = $proof =~ /"side": "(?:left|right)"/g;
cmp_ok(scalar @steps, '<=', 14, 'the path has at most 14 hashes (' . scalar(@steps) . ')');
my @keys = $proof =~ /"chain_key"/g;
is(scalar @keys, 1, 'the proof names one chain only');
cmp_ok(length $proof, '<', 4096, 'the proof is small (' . length($proof) . ' bytes, the digest ' . length($signed) . ')');
like($proof, qr/"signature": \{/, 'the proof carries the digest\'s signature');

# the longest path over a sample of chains, the first and last leaves among them
my $longest = $node->safe_psql($db,
	'SELECT max(jsonb_array_length(wallet_ops.chain_proof(\'app.accounts\', g::text, d)->\'path\'))'
	  . ' FROM generate_series(1, 10000, 97) g, (SELECT ' . sql_quote($signed) . '::jsonb AS d) x');
is($longest, '14', 'paths of a sample of 104 chains: at most 14 hashes, ceil(log2 10000)');

# ---- checked offline -------------------------------------------------------
($rc, $out) = cmd('prove', '--digest', "$dir/proof.json", '--key', '42', '--trusted-key', "$dir/audit.pub");
is($rc, 0, 'prove --trusted-key: exit 0');
like($out, qr/^proof of chain "42" \(last_seq 6\) in the digest of app\.accounts taken at \S+: leaf \d+ of 10000, path of \d+ hashes, signature valid: valid$/m,
	'prove says what it checked');
($rc, $out) = cmd('prove', '--digest', "$dir/proof.json", '--key', '42');
is($rc, 0, 'prove without --trusted-key: exit 0');
like($out, qr/signature not checked \(no --trusted-key\): valid$/m, 'and says the signature was not checked');
($rc, $out) = cmd('prove', '-q', '--digest', "$dir/proof.json", '--key', '42');
is($out, '', '-q: nothing printed when the proof holds');

# ---- refused ---------------------------------------------------------------
my @trusted = ('--trusted-key', "$dir/audit.pub");
($rc, $out) = cmd('prove', '--digest', "$dir/proof.json", '--key', '43', @trusted);
is($rc . ' ' . problems($out), '1 wrong_chain', 'a proof of another chain: wrong_chain');

my %leaf_edits = (
	'last_seq' => sub { s/"last_seq": 6/"last_seq": 7/ },
	'head_hash' => sub { s/("head_hash": ")([0-9a-f])/$1 . ($2 eq 'a' ? 'b' : 'a')/e },
	'chain_key' => sub { s/"chain_key": "42"/"chain_key": "43"/ },
);
for my $what (sort keys %leaf_edits)
{
	($rc, $out) = prove_edited($proof, $leaf_edits{$what}, '--key', $what eq 'chain_key' ? '43' : '42', @trusted);
	is($rc . ' ' . problems($out), '1 proof_mismatch', "an edited leaf ($what): proof_mismatch");
}
($rc, $out) = prove_edited($proof, sub { s/("hash": ")([0-9a-f])/$1 . ($2 eq 'a' ? 'b' : 'a')/e }, '--key', '42', @trusted);
is($rc . ' ' . problems($out), '1 proof_mismatch', 'an edited sibling hash: proof_mismatch');
($rc, $out) = prove_edited($proof, sub { s/"side": "left"/"side": "right"/ or s/"side": "right"/"side": "left"/ }, '--key', '42', @trusted);
is($rc . ' ' . problems($out), '1 proof_mismatch', 'a sibling moved to the other side: proof_mismatch');
($rc, $out) = prove_edited($proof, sub { s/\{"hash": "[0-9a-f]{64}", "side": "(?:left|right)"\}, // }, '--key', '42', @trusted);
is($rc . ' ' . problems($out), '1 proof_mismatch', 'a step removed: proof_mismatch');
like($out, qr/but step \d+ of the path is missing|siblings on its way up|is on the other side/, 'and says how the path is short');
($rc, $out) = prove_edited($proof, sub { s/"leaf_index": (\d+)/'"leaf_index": ' . ($1 ^ 1)/e }, '--key', '42', @trusted);
is($rc . ' ' . problems($out), '1 proof_mismatch', 'an edited leaf_index: proof_mismatch');
($rc, $out) = prove_edited($proof, sub { s/("merkle_root": ")([0-9a-f])/$1 . ($2 eq 'a' ? 'b' : 'a')/e }, '--key', '42', @trusted);
is($rc . ' ' . problems($out), '1 proof_mismatch,signature_mismatch', 'an edited merkle_root: proof_mismatch and signature_mismatch');
($rc, $out) = prove_edited($proof, sub { s/("merkle_root": ")([0-9a-f])/$1 . ($2 eq 'a' ? 'b' : 'a')/e }, '--key', '42');
is($rc . ' ' . problems($out), '1 proof_mismatch', 'an edited merkle_root, signature not checked: proof_mismatch');
($rc, $out) = prove_edited($proof, sub { s/"row_count": (\d+)/'"row_count": ' . ($1 + 1)/e }, '--key', '42', @trusted);
is($rc . ' ' . problems($out), '1 signature_mismatch', 'an edited signed field: signature_mismatch');
($rc, $out) = prove_edited($proof, sub { s/"chain_count": 10000/"chain_count": 10001/ }, '--key', '42', @trusted);
like($rc . ' ' . problems($out), qr/^1 (proof_mismatch,)?signature_mismatch$/, 'an edited chain_count: signature_mismatch');
($rc, $out) = cmd('prove', '--digest', "$dir/proof.json", '--key', '42', '--trusted-key', "$dir/other.pub");
is($rc . ' ' . problems($out), '1 signing_key_unknown', 'a key nobody trusts: signing_key_unknown');

my $unsigned = $node->safe_psql($db, 'SELECT wallet_ops.chain_digest(\'app.accounts\')');
($rc, $out) = prove_edited(proof_of('42', $unsigned), sub { s/^/ / }, '--key', '42', @trusted);
is($rc . ' ' . problems($out), '1 signature_missing', 'an unsigned proof where a signature is required: signature_missing');

($rc, $out, $err) = cmd('prove', '--digest', "$dir/signed.json", '--key', '42');
is($rc, 2, 'a whole digest instead of a proof: exit 2');
like($err, qr/wallet_ops\.chain_proof/, 'and the message says how to make a proof');
($rc, $out, $err) = prove_edited($proof, sub { s/"path": \[/"path": [1, / }, '--key', '42');
is($rc, 2, 'a malformed path: exit 2');
($rc, $out, $err) = cmd('prove', '--key', '42');
is($rc, 2, 'no proof given: exit 2');

# ---- the server refuses what would not verify ------------------------------
my ($ret, $stdout, $stderr) = $node->psql($db,
	'SELECT wallet_ops.chain_proof(\'app.accounts\', \'42\', jsonb_set(' . sql_quote($signed)
	  . '::jsonb, \'{chains,5,last_seq}\', \'9\'))', extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($stderr, qr/WO004: digest does not match its own merkle_root/, 'chain_proof of an edited digest: WO004');
$node->safe_psql($db, "SELECT wallet_ops.revoke_digest_key('audit')");
($ret, $stdout, $stderr) = $node->psql($db,
	'SELECT wallet_ops.chain_proof(\'app.accounts\', \'42\', ' . sql_quote($signed) . ')',
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($stderr, qr/WO003: digest is signed by a revoked key/, 'chain_proof of a digest signed by a revoked key: WO003');

# ---- a chain whose name needs escaping --------------------------------------
$node->safe_psql($db, q{
CREATE TABLE app.pairs (a text NOT NULL, b int NOT NULL, memo text);
SELECT wallet_ops.enable_hash_chain('app.pairs', '{a,b}');
INSERT INTO app.pairs VALUES ('Zoë "q" \', 1, 'x'), ('b', 2, 'y'), ('c', 3, 'z');
});
my $name = $node->safe_psql($db, q{SELECT chain_key FROM wallet_ops.chain_heads WHERE chain_key LIKE '%Zo%'});
my $pair_proof = $node->safe_psql($db,
	'SELECT wallet_ops.chain_proof(\'app.pairs\', ' . sql_quote($name) . ', wallet_ops.chain_digest(\'app.pairs\'))');
($rc, $out) = prove_edited($pair_proof, sub { s/$/\n/ }, '--key', $name);
is($rc, 0, "a proof of chain $name verifies");

$node->stop;
done_testing();
