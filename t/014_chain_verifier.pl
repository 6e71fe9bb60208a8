# wallet_ops_verify, the outside verifier: it recomputes every hash of a
# hash-chained table from the documented byte format and must agree with
# wallet_ops.verify_chain / verify_against_digest: intact (exit 0), one byte
# changed on disk (exit 1, hash_mismatch at that chain and seq), the tail of
# a chain removed (head_mismatch, and missing_row against a digest taken
# before), rows inserted around the trigger, and everything it cannot check
# (exit 2: wrong table, unchained table, no permission, no server, bad
# digest file).
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('chain_verifier');
$node->init(allows_streaming => 1, extra => ['--encoding=UTF8', '--locale=C']);
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'wallet_ops'\nwallet_ops.naptime = 3600\n");
$node->start;

our $db = 'postgres';

# Run wallet_ops_verify; returns (exit status, stdout, stderr).
sub verify_cmd
{
	my (@args) = @_;
	my ($out, $err) = ('', '');
	my @cmd = ('wallet_ops_verify', @args);
	IPC::Run::run(\@cmd, '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	note(join(' ', @cmd) . " -> $rc\n$out$err");
	return ($rc, $out, $err);
}

sub verify_db
{
	my (@args) = @_;
	return verify_cmd(@args[0 .. $#args - 1], $node->connstr($db), $args[-1]);
}

# "problem chain seq" lines, sorted, from the command's output ...
sub cmd_problems
{
	my ($out) = @_;
	my @p;
	for my $line (split /\n/, $out)
	{
		if ($line =~ /^(\w+): chain (\(null key\)|"(?:[^"\\]|\\.)*") chain_seq (-?\d+|-):/)
		{
			my ($problem, $chain, $seq) = ($1, $2, $3);
			$chain = $chain eq '(null key)' ? '' : substr($chain, 1, -1);
			$chain =~ s/\\(["\\])/$1/g;
			$seq = '' if $seq eq '-';
			push @p, "$problem|$chain|$seq";
		}
	}
	return join("\n", sort @p);
}

# ... and from the server's function
sub sql_problems
{
	my ($sql) = @_;
	my $res = $node->safe_psql($db,
		"SELECT problem || '|' || coalesce(chain_key, '') || '|' || coalesce(chain_seq::text, '') FROM ($sql) p");
	return join("\n", sort split /\n/, $res);
}

$node->safe_psql($db, q{
CREATE EXTENSION wallet_ops;
CREATE SCHEMA app;
CREATE TABLE app.entity_history (
    history_id  bigint GENERATED ALWAYS AS IDENTITY,
    entity_id   uuid NOT NULL,
    kind        text NOT NULL,
    payload     jsonb NOT NULL,
    amount      numeric(14,2),
    changed_at  timestamptz NOT NULL,
    PRIMARY KEY (history_id, changed_at)
) PARTITION BY RANGE (changed_at);
CREATE TABLE app.entity_history_2026_01 PARTITION OF app.entity_history
  FOR VALUES FROM ('2026-01-01 00:00+00') TO ('2026-02-01 00:00+00');
CREATE TABLE app.entity_history_2026_02 PARTITION OF app.entity_history
  FOR VALUES FROM ('2026-02-01 00:00+00') TO ('2026-03-01 00:00+00');
SELECT wallet_ops.enable_hash_chain('app.entity_history', '{entity_id}');
INSERT INTO app.entity_history (entity_id, kind, payload, amount, changed_at)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(1 + n % 5), 12, '0'))::uuid,
       CASE WHEN n = 77 THEN 'marker-QZJW-one' ELSE 'Überweisung' END,
       jsonb_build_object('n', n, 'owner', 'Zoë Ørsted', 'nested', jsonb_build_object('€', n / 7.0)),
       n * 1.25,
       timestamptz '2026-01-01 00:00+00' + n * interval '11 hours'
  FROM generate_series(1, 100) n;
});

# The reference implementation reproduces every vector of hash-format.md
# (and the document holds its current vectors).
SKIP:
{
	skip 'python3 is not installed', 1 unless system('python3 -c 1 2>/dev/null') == 0;
	my ($py_out, $py_err) = ('', '');
	IPC::Run::run(['python3', 'tools/hash_reference.py', 'check'], '>', \$py_out, '2>', \$py_err);
	is($? >> 8, 0, 'tools/hash_reference.py reproduces the documented test vectors')
	  or diag($py_out . $py_err);
}

# ---- intact --------------------------------------------------------------
my ($rc, $out, $err) = verify_db('app.entity_history');
is($rc, 0, 'intact table: exit 0');
like($out, qr/^app\.entity_history: 100 rows in 5 chains: intact$/m, 'intact table: summary says intact');
is($err, '', 'intact table: nothing on stderr');

($rc, $out) = verify_db('--quiet', 'app.entity_history');
is("$rc|$out", '0|', '--quiet prints nothing when intact');

# the session's settings, even the client encoding, change nothing
{
	local $ENV{PGOPTIONS} =
	  '-c TimeZone=America/St_Johns -c DateStyle=German -c IntervalStyle=iso_8601 -c extra_float_digits=3 -c search_path=app';
	local $ENV{PGCLIENTENCODING} = 'LATIN1';
	($rc, $out) = verify_db('entity_history');
	is($rc, 0, 'intact under other session settings and client encoding');
}

($rc, $out) = verify_db('--chain', '00000000-0000-4000-8000-000000000002', 'app.entity_history');
like($out, qr/: 20 rows in 1 chain: intact/, '--chain verifies one chain');

# every supported type (and domains, and arrays) is recomputed exactly
$node->safe_psql($db, q{
CREATE DOMAIN app.positive_amount AS numeric CHECK (VALUE > 0);
CREATE DOMAIN app.short_text AS varchar(30);
CREATE TABLE app.typed (
    k     integer NOT NULL, k2 text NOT NULL,
    b     boolean, i2 smallint, i4 integer, i8 bigint,
    n     numeric, dm app.positive_amount, r real, d double precision,
    t     text, vc varchar(20), c char(5), nm name, ds app.short_text,
    j     json, jb jsonb, ba bytea, u uuid,
    tz    timestamptz, ts timestamp, dt date, ip inet, ip6 inet, cn cidr, iv interval,
    ai    int[], at text[], au uuid[], atz timestamptz[], ajb jsonb[], an numeric[],
    adm   app.positive_amount[], af float4[], aip inet[], a2 int8[]
);
SELECT wallet_ops.enable_hash_chain('app.typed', '{k,k2}');
INSERT INTO app.typed VALUES (
    1, 'Ärger "quoted"', true, -2, 40000, 9000000000,
    12.50, 0.001, 1.5, 0.1,
    U&'caf\00E9 \00FCber', 'Zoë', 'ab', 'nom', 'ds',
    '{"b": 1,  "a": [1, 2.0]}', '{"b": 1, "a": [1, 2.0], "ü": "ß"}', '\xdeadbeef',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '2026-03-01 12:00:00.123456+00', '2026-03-01 12:00:00', '2026-03-01',
    '192.168.1.5/24', '2001:db8::ff00:42:8329/64', '10.0.0.0/8', make_interval(0, 1, 0, 2, 3, 4, 5.5),
    ARRAY[1, NULL, 3], '[0:1]={x,"y z"}', ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid],
    ARRAY['infinity'::timestamptz, '2026-01-01 00:00+00'], ARRAY['{"k": null}'::jsonb], '{{1.0,2},{3,NaN}}',
    '{7.50}', '{NaN,-0.5,Infinity}', '{::1,10.1.2.3/16}', '{}');
INSERT INTO app.typed (k, k2, d, r, tz, dt, n) VALUES
    (1, 'Ärger "quoted"', 'NaN', '-Infinity', '-infinity', 'infinity', 'Infinity'),
    (2, 'zwei', -0.0, 3.4e38, '1999-12-31 23:59:59.999999+00', '1999-12-31', '-0.000'),
    (1, 'Ärger "quoted"', NULL, NULL, NULL, NULL, NULL);
});
($rc, $out) = verify_db('app.typed');
like($out, qr/: 4 rows in 2 chains: intact/, 'every type, domain and array is recomputed exactly');
is($rc, 0, 'every type: exit 0');
($rc, $out) = verify_db('--chain', '["2", "zwei"]', 'app.typed');
like($out, qr/: 1 row in 1 chain: intact/, '--chain with several key columns');
($rc, $out, $err) = verify_db('--chain', 'not-a-uuid', 'app.entity_history');
is($rc, 2, '--chain that is not a key value: exit 2');
like($err, qr/could not select the chain given with --chain: invalid input syntax for type uuid/,
	'--chain that is not a key value: says so');

# a LATIN1 database: text reaches the command as UTF-8 and hashes alike
$node->safe_psql('postgres', q{CREATE DATABASE latin1 ENCODING 'LATIN1' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'});
$node->safe_psql('latin1', q{
CREATE EXTENSION wallet_ops;
CREATE TABLE l1 (k text NOT NULL, t text, j json, jb jsonb, c char(6), n numeric[]);
SELECT wallet_ops.enable_hash_chain('l1', '{k}');
INSERT INTO l1 VALUES (U&'cl\00E9', U&'caf\00E9 \00FCber', U&'{"\00E4": 1}', U&'{"\00F6": "\00DF", "a": [1.50]}', U&'\00E9t\00E9', '{1.10,NULL}');
});
{
	local $db = 'latin1';
	($rc, $out) = verify_db('l1');
	is("$rc|$out", "0|public.l1: 1 row in 1 chain: intact\n", 'a LATIN1 database verifies');
	is( $node->safe_psql('latin1', q{SELECT count(*) FROM wallet_ops.verify_chain('l1')}),
		'0', 'and the server agrees');
}

# ---- one byte changed in a data file -----------------------------------------
my $tampered = $node->safe_psql($db,
	q{SELECT entity_id || ' ' || chain_seq FROM app.entity_history WHERE kind = 'marker-QZJW-one'});
my ($t_chain, $t_seq) = split / /, $tampered;
my $file = $node->data_dir . '/'
  . $node->safe_psql($db,
	q{SELECT pg_relation_filepath(tableoid) FROM app.entity_history WHERE kind = 'marker-QZJW-one'});
my $checksums = $node->safe_psql($db, 'SHOW data_checksums');
$node->stop;
{
	open(my $fh, '+<:raw', $file) or die "open $file: $!";
	local $/;
	my $data = <$fh>;
	my $pos = index($data, 'marker-QZJW-one');
	die "marker not found in $file" if $pos < 0;
	die "marker found twice" if index($data, 'marker-QZJW-one', $pos + 1) >= 0;
	seek($fh, $pos + 7, 0);    # 'Q' -> 'R'
	print $fh 'R';
	close $fh;
}
# With data checksums (initdb's default since PostgreSQL 18) the server would
# refuse the page; whoever can write the file can recompute its checksum too.
if ($checksums eq 'on')
{
	PostgreSQL::Test::Utils::system_or_bail('pg_checksums', '--disable', '--pgdata', $node->data_dir);
	PostgreSQL::Test::Utils::system_or_bail('pg_checksums', '--enable', '--pgdata', $node->data_dir);
}
$node->start;
is($node->safe_psql($db, q{SELECT count(*) FROM app.entity_history WHERE kind = 'marker-RZJW-one'}),
	'1', 'one byte of one row was changed on disk');

($rc, $out) = verify_db('app.entity_history');
is($rc, 1, 'tampered byte: exit 1');
like($out, qr/^hash_mismatch: chain "\Q$t_chain\E" chain_seq $t_seq: stored row_hash [0-9a-f]{64}, computed [0-9a-f]{64}$/m,
	'tampered byte: hash_mismatch names the chain and chain_seq');
like($out, qr/: 1 problem found$/m, 'tampered byte: exactly one problem');
is(cmd_problems($out), sql_problems(q{SELECT * FROM wallet_ops.verify_chain('app.entity_history')}),
	'tampered byte: the command agrees with verify_chain');

# ---- the tail of a chain removed, against a digest taken before ---------------
my $digest_file = $node->basedir . '/digest.json';
my $digest = $node->safe_psql($db, q{SELECT wallet_ops.chain_digest('app.entity_history')});
PostgreSQL::Test::Utils::append_to_file($digest_file, $digest);

($rc, $out) = verify_db('--digest', $digest_file, 'app.entity_history');
like($out, qr/5 chains attested by the digest/, 'digest: every chain attested');
is(cmd_problems($out), "hash_mismatch|$t_chain|$t_seq", 'digest: nothing but the earlier tampering');

my $tail_chain = '00000000-0000-4000-8000-000000000004';
my $tail_seq = $node->safe_psql($db,
	qq{SELECT max(chain_seq) FROM app.entity_history WHERE entity_id = '$tail_chain'});
# Append-only protection, where present, must be released first: that is
# the point of the test (an operator with the power to remove rows).
$node->safe_psql($db, qq{
DO \$\$ BEGIN
  IF pg_catalog.to_regprocedure('wallet_ops.release_append_only(regclass)') IS NOT NULL THEN
    BEGIN
      PERFORM wallet_ops.release_append_only('app.entity_history');
    EXCEPTION WHEN object_not_in_prerequisite_state THEN
      NULL;  -- not protected
    END;
  END IF;
END \$\$;
SET session_replication_role = replica;
DELETE FROM app.entity_history WHERE entity_id = '$tail_chain' AND chain_seq >= $tail_seq - 1;
});

($rc, $out) = verify_db('app.entity_history');
is($rc, 1, 'tail removed: exit 1');
like($out, qr/^head_mismatch: chain "$tail_chain" chain_seq $tail_seq: the recorded head is chain_seq $tail_seq .* ends at chain_seq @{[$tail_seq - 2]} /m,
	'tail removed: head_mismatch names the chain and the recorded head');
is(cmd_problems($out), sql_problems(q{SELECT * FROM wallet_ops.verify_chain('app.entity_history')}),
	'tail removed: the command agrees with verify_chain');

# Now pretend the head was "repaired" too: only the digest still knows.
$node->safe_psql($db, qq{
UPDATE wallet_ops.chain_heads h SET last_seq = e.chain_seq, last_hash = e.row_hash
  FROM app.entity_history e
 WHERE h.relid = 'app.entity_history'::regclass AND h.chain_key = '$tail_chain'
   AND e.entity_id = '$tail_chain' AND e.chain_seq = $tail_seq - 2;
});
($rc, $out) = verify_db('app.entity_history');
is(cmd_problems($out), "hash_mismatch|$t_chain|$t_seq", 'head rewritten: without the digest the truncation is invisible');
($rc, $out) = verify_db('--digest', $digest_file, 'app.entity_history');
is($rc, 1, 'digest: exit 1');
like($out, qr/^missing_row: chain "$tail_chain" chain_seq $tail_seq: the chain ends at chain_seq @{[$tail_seq - 2]}, before chain_seq $tail_seq attested by the digest/m,
	'digest: the truncated chain is reported');
is(cmd_problems($out),
	sql_problems(qq{SELECT * FROM wallet_ops.verify_against_digest('app.entity_history', '$digest')}),
	'digest: the command agrees with verify_against_digest');

# an edited digest is itself reported
(my $forged = $digest) =~ s/"last_seq": (\d+)/'"last_seq": ' . ($1 + 1)/e;
my $forged_file = $node->basedir . '/forged.json';
PostgreSQL::Test::Utils::append_to_file($forged_file, $forged);
($rc, $out) = verify_db('--digest', $forged_file, 'app.entity_history');
like($out, qr/^digest_mismatch: chain \(null key\) chain_seq -: the digest's merkle_root/m,
	'an edited digest is reported');

# ---- rows inserted around the trigger ---------------------------------------------
$node->safe_psql($db, q{
SET session_replication_role = replica;
INSERT INTO app.entity_history (entity_id, kind, payload, changed_at)
VALUES ('00000000-0000-4000-8000-000000000003', 'sneaked', '{}', '2026-02-10 00:00+00');
});
($rc, $out) = verify_db('app.entity_history');
like($out, qr/^unhashed_row: chain "00000000-0000-4000-8000-000000000003" chain_seq -: the row was not hashed/m,
	'a row inserted around the trigger is unhashed_row');
is(cmd_problems($out), sql_problems(q{SELECT * FROM wallet_ops.verify_chain('app.entity_history')}),
	'unhashed row: the command agrees with verify_chain');

# ---- could not check: exit 2, never "intact" ---------------------------------------
($rc, $out, $err) = verify_db('app.no_such_table');
is($rc, 2, 'missing table: exit 2');
like($err, qr/error: .*relation "app\.no_such_table" does not exist/, 'missing table: says so');
unlike($out, qr/intact/, 'missing table: never intact');

$node->safe_psql($db, 'CREATE TABLE app.plain (a int)');
($rc, $out, $err) = verify_db('app.plain');
is($rc, 2, 'unchained table: exit 2');
like($err, qr/table app\.plain is not hash-chained/, 'unchained table: says so');

$node->safe_psql($db, q{
CREATE ROLE outsider LOGIN;
GRANT USAGE ON SCHEMA app TO outsider;
CREATE ROLE auditor LOGIN;
GRANT USAGE ON SCHEMA app TO auditor;
GRANT SELECT ON app.typed TO auditor;
});
($rc, $out, $err) = verify_cmd($node->connstr($db) . ' user=outsider', 'app.entity_history');
is($rc, 2, 'no SELECT on the table: exit 2');
like($err, qr/permission denied for table entity_history/, 'no permission: says so');
unlike($out, qr/intact|rows in/, 'no permission: no summary');

# a role that may read the table but not wallet_ops.chain_heads still checks the heads
($rc, $out, $err) = verify_cmd($node->connstr($db) . ' user=auditor', 'app.typed');
is("$rc|$err", '0|', 'SELECT on the table is enough');
$node->safe_psql($db, q{
UPDATE wallet_ops.chain_heads SET last_seq = last_seq + 1
 WHERE relid = 'app.typed'::regclass AND chain_key = '["2", "zwei"]';
});
($rc, $out) = verify_cmd($node->connstr($db) . ' user=auditor', 'app.typed');
like($out, qr/^head_mismatch: chain "\[\\"2\\", \\"zwei\\"\]" chain_seq 2:/m,
	'heads read through chain_digest() for a role without access to chain_heads');

# row-level security that would hide rows is an error, not a shorter chain
$node->safe_psql($db, q{
ALTER TABLE app.typed ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_one ON app.typed USING (k = 1);
});
($rc, $out, $err) = verify_cmd($node->connstr($db) . ' user=auditor', 'app.typed');
is($rc, 2, 'row-level security: exit 2');
like($err, qr/row-level security/, 'row-level security: says so');

($rc, $out, $err) = verify_db('--digest', $node->basedir . '/nonexistent.json', 'app.entity_history');
is($rc, 2, 'unreadable digest file: exit 2');
PostgreSQL::Test::Utils::append_to_file($node->basedir . '/broken.json', '{"format": "wallet_ops.digest.v1", "chains": [');
($rc, $out, $err) = verify_db('--digest', $node->basedir . '/broken.json', 'app.entity_history');
is($rc, 2, 'malformed digest file: exit 2');
like($err, qr/could not parse digest file/, 'malformed digest file: says so');

($rc, $out, $err) = verify_db('--chain', 'no-such-chain', 'app.entity_history');
is($rc, 2, 'unknown chain: exit 2');

# a hot standby gives the same answer (read-only, repeatable read)
$node->backup('verifier_backup');
my $standby = PostgreSQL::Test::Cluster->new('chain_verifier_standby');
$standby->init_from_backup($node, 'verifier_backup', has_streaming => 1);
$standby->start;
$node->wait_for_catchup($standby);
($rc, $out) = verify_db('app.entity_history');
my $primary_problems = cmd_problems($out);
my ($s_rc, $s_out, $s_err) = verify_cmd($standby->connstr($db), 'app.entity_history');
is($s_rc, 1, 'on a hot standby: runs, exit 1');
isnt($primary_problems, '', 'the primary has problems to compare');
is(cmd_problems($s_out), $primary_problems, 'on a hot standby: the same problems as on the primary');
my ($j_rc, $j_out, $j_err) = verify_cmd('--jobs', '3', $standby->connstr($db), 'app.entity_history');
is("$j_rc|$j_out|$j_err", "$s_rc|$s_out|$s_err", 'on a hot standby: --jobs 3 prints what the serial run prints');
$standby->stop;

my $port = $node->port;
$node->stop;
($rc, $out, $err) = verify_cmd($node->connstr($db), 'app.entity_history');
is($rc, 2, 'server down: exit 2');
like($err, qr/error: connection to server/, 'server down: says so');

($rc, $out) = verify_cmd('--version');
like($out, qr/^wallet_ops_verify \(wallet_ops\) \d/, '--version');
($rc, $out) = verify_cmd('--help');
like($out, qr/Exit status: 0 intact, 1 problems found, 2 could not check/, '--help');
($rc, $out, $err) = verify_cmd();
is($rc, 2, 'no table given: exit 2');

done_testing();
