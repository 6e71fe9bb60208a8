# wallet_ops_verify --jobs N: N connections on one snapshot, each reading
# one part of the chains, must print exactly what the serial run prints
# (the same problems in the same order, the same summary) and exit alike:
# on an intact table and on one tampered in many ways across many chains,
# with and without --digest, with one key column and with two (one of them
# text, one of them sometimes null), and with --quiet.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('verify_jobs');
$node->init(extra => ['--encoding=UTF8', '--locale=C']);
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'wallet_ops'\nwallet_ops.naptime = 3600\nlog_statement = all\n");
$node->start;

my $db = 'postgres';

sub verify_cmd
{
	my (@args) = @_;
	my ($out, $err) = ('', '');
	my @cmd = ('wallet_ops_verify', @args[0 .. $#args - 1], $node->connstr($db), $args[-1]);
	IPC::Run::run(\@cmd, '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	note(join(' ', @cmd) . " -> $rc\n$out$err");
	return ($rc, $out, $err);
}

# The serial run and --jobs 2 and 3 (with a small fetch size as well, so
# that the parts span several batches): the same output and status.
sub same_as_serial
{
	my ($what, $expect_rc, @args) = @_;
	my ($rc, $out, $err) = verify_cmd(@args);
	is($rc, $expect_rc, "$what: serial run exits $expect_rc");
	is($err, '', "$what: serial run writes nothing to stderr");
	for my $jobs (['--jobs', '3'], ['-j', '2', '--fetch-size', '7'], ['--jobs=3', '--quiet'])
	{
		my ($s_rc, $s_out) = ($rc, $out);
		($s_rc, $s_out) = verify_cmd(@args[0 .. $#args - 1], '--quiet', $args[-1])
		  if grep { $_ eq '--quiet' } @$jobs;
		my ($j_rc, $j_out, $j_err) = verify_cmd(@$jobs, @args);
		is($j_rc, $s_rc, "$what: @$jobs exits as the serial run");
		is($j_out, $s_out, "$what: @$jobs prints exactly the serial output");
		is($j_err, '', "$what: @$jobs writes nothing to stderr");
	}
	return $out;
}

# Append-only protection, where present, is released: the point is an
# operator with the power to change rows.
sub release
{
	my ($table) = @_;
	$node->safe_psql($db, qq{
DO \$\$ BEGIN
  IF pg_catalog.to_regprocedure('wallet_ops.release_append_only(regclass)') IS NOT NULL THEN
    BEGIN
      PERFORM wallet_ops.release_append_only('$table');
    EXCEPTION WHEN object_not_in_prerequisite_state THEN
      NULL;
    END;
  END IF;
END \$\$;});
}

$node->safe_psql($db, q{
CREATE EXTENSION wallet_ops;
CREATE TABLE ledger (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account  integer NOT NULL,
    memo     text,
    amount   numeric(14,2)
);
SELECT wallet_ops.enable_hash_chain('ledger', '{account}');
INSERT INTO ledger (account, memo, amount)
SELECT 1 + n % 40, 'entry ' || n, n * 1.25 FROM generate_series(1, 1200) n;

CREATE TABLE moves (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region   text COLLATE "C",
    wallet   integer,
    payload  jsonb
);
SELECT wallet_ops.enable_hash_chain('moves', '{region,wallet}');
INSERT INTO moves (region, wallet, payload)
SELECT (ARRAY['Zürich', 'berlin', 'Berlin', 'ÆØÅ', 'a "q"'])[1 + n % 5], n % 7,
       jsonb_build_object('n', n)
  FROM generate_series(1, 700) n;
});

# ---- intact ----------------------------------------------------------------
# three parts, each on its own connection and on the first one's snapshot
my $log_offset = -s $node->logfile;
verify_cmd('--jobs', '3', 'ledger');
my $log = slurp_file($node->logfile, $log_offset);
my @imports = $log =~ /(?:statement|execute <unnamed>): SET TRANSACTION SNAPSHOT '([^']+)'/g;
is(scalar(@imports), 3, '--jobs 3: three connections import a snapshot');
is(scalar(keys %{ { map { $_ => 1 } @imports } }), 1, '--jobs 3: the same snapshot');

my $out = same_as_serial('intact, one key', 0, 'ledger');
like($out, qr/^public\.ledger: 1200 rows in 40 chains: intact$/m, 'intact: the summary counts every row and chain');
same_as_serial('intact, two keys', 0, 'moves');

my $digest_file = $node->basedir . '/ledger.json';
PostgreSQL::Test::Utils::append_to_file($digest_file,
	$node->safe_psql($db, q{SELECT wallet_ops.chain_digest('ledger')}));
my $moves_digest = $node->basedir . '/moves.json';
PostgreSQL::Test::Utils::append_to_file($moves_digest,
	$node->safe_psql($db, q{SELECT wallet_ops.chain_digest('moves')}));
same_as_serial('intact, with --digest', 0, '--digest', $digest_file, 'ledger');

# ---- tampered in many ways across many chains -------------------------------
release('ledger');
release('moves');
$node->safe_psql($db, q{
SET session_replication_role = replica;
-- hash_mismatch in several chains
UPDATE ledger SET memo = memo || '!' WHERE account IN (3, 17, 29) AND id % 4 = 0;
-- a row removed in the middle: missing_row; a link rewritten: broken_link
UPDATE ledger SET prev_hash = row_hash WHERE account = 14 AND chain_seq = 9;
DELETE FROM ledger WHERE account = 8 AND chain_seq = 6;
-- the tail removed: head_mismatch (and missing_row against the digest)
DELETE FROM ledger WHERE account = 21 AND chain_seq > 27;
-- a whole chain removed: its head (and the digest) know it had rows
DELETE FROM ledger WHERE account = 40;
-- rows around the trigger: unhashed_row, and a chain with no head
INSERT INTO ledger (account, memo) VALUES (12, 'sneaked'), (55, 'new chain');
-- duplicate_seq
INSERT INTO ledger (account, memo, amount, chain_seq, prev_hash, row_hash)
SELECT account, memo, amount, chain_seq, prev_hash, row_hash FROM ledger
 WHERE account = 33 AND chain_seq = 4;
-- a head recorded for a chain that never had rows
INSERT INTO wallet_ops.chain_heads (relid, chain_key, last_seq, last_hash)
SELECT relid, '9999', last_seq, last_hash FROM wallet_ops.chain_heads
 WHERE relid = 'ledger'::regclass AND chain_key = '1';

UPDATE moves SET payload = '{}' WHERE wallet IN (2, 5) AND id % 9 = 0;
DELETE FROM moves WHERE region = 'berlin' AND wallet = 3;
INSERT INTO moves (region, wallet, payload) VALUES (NULL, 1, '{}'), ('Berlin', NULL, '{}'), (NULL, NULL, '{}');
});

$out = same_as_serial('tampered, one key', 1, 'ledger');
for my $p (qw(hash_mismatch missing_row broken_link head_mismatch unhashed_row duplicate_seq))
{
	like($out, qr/^$p: /m, "tampered: the serial run finds $p");
}
# with statistics (a small target, so that the 40 accounts are not all
# most common values), the parts are cut at the key column's histogram bounds
# instead of by a pass over the table: the same output
$node->safe_psql($db, 'ALTER TABLE ledger ALTER COLUMN account SET STATISTICS 10; ANALYZE ledger');
is( $node->safe_psql($db,
		"SELECT array_length(histogram_bounds::text::text[], 1) >= 3 FROM pg_stats WHERE tablename = 'ledger' AND attname = 'account'"),
	't', 'ledger has a histogram of its key');
$log_offset = -s $node->logfile;
same_as_serial('tampered, one key, cut by the histogram', 1, 'ledger');
$log = slurp_file($node->logfile, $log_offset);
like($log, qr/histogram_bounds/, '--jobs read the histogram');
unlike($log, qr/OFFSET/, '--jobs made no pass over the table to cut it');
$out = same_as_serial('tampered, with --digest', 1, '--digest', $digest_file, 'ledger');
like($out, qr/^missing_row: chain "21" chain_seq \d+: the chain ends at chain_seq/m,
	'tampered, with --digest: the truncated chain is reported');
$out = same_as_serial('tampered, two keys and null keys', 1, 'moves');
like($out, qr/^unhashed_row: chain \(null key\) chain_seq -: a row with a null chain key$/m,
	'tampered, two keys: rows with a null key are reported');
same_as_serial('tampered, two keys, with --digest', 1, '--digest', $moves_digest, 'moves');

# an edited digest: its own problem first, then the parts
(my $forged = slurp_file($digest_file)) =~ s/"last_seq": (\d+)/'"last_seq": ' . ($1 + 1)/e;
my $forged_file = $node->basedir . '/forged.json';
PostgreSQL::Test::Utils::append_to_file($forged_file, $forged);
$out = same_as_serial('an edited digest', 1, '--digest', $forged_file, 'ledger');
like($out, qr/\Adigest_mismatch: chain \(null key\) chain_seq -: /, 'an edited digest is reported first');

# ---- a partitioned table (no row estimate: the rows are counted) ----------------
$node->safe_psql($db, q{
CREATE TABLE parted (
    id       bigint GENERATED ALWAYS AS IDENTITY,
    wallet   bigint NOT NULL,
    at       date NOT NULL,
    note     text
) PARTITION BY RANGE (at);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
SELECT wallet_ops.enable_hash_chain('parted', '{wallet}');
INSERT INTO parted (wallet, at, note)
SELECT n % 23, date '2026-01-01' + n / 10, 'n' || n FROM generate_series(1, 500) n;
});
same_as_serial('partitioned, intact', 0, 'parted');
release('parted');
$node->safe_psql($db, q{
SET session_replication_role = replica;
UPDATE parted SET note = 'x' WHERE id % 37 = 0;
});
same_as_serial('partitioned, tampered', 1, 'parted');

# ---- one connection where there is nothing to share ---------------------------
my ($rc, $o1) = verify_cmd('--chain', '3', 'ledger');
my ($rc2, $o2) = verify_cmd('--jobs', '3', '--chain', '3', 'ledger');
is("$rc2|$o2", "$rc|$o1", '--jobs with --chain: as without');
($rc, my $o, my $err) = verify_cmd('--jobs', '0', 'ledger');
is($rc, 2, '--jobs 0: exit 2');
like($err, qr/--jobs must be between 1 and 64/, '--jobs 0: says so');

# a part that cannot be checked: exit 2, no summary
($rc, $o, $err) = verify_cmd('--jobs', '2', 'no_such_table');
is($rc, 2, '--jobs on a missing table: exit 2');

done_testing();
