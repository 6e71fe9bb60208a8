# The server and wallet_ops_verify agree on the field tag of every type.
#
# Both read the tags from src/chain_format.h; this checks what each one
# actually writes.  wallet_ops_verify --list-type-tags prints the tag it
# writes for each type of that table.  The server's tag is read off a row
# hash: a row whose only hashed column is NULL hashes
#   bytes("wallet_ops/row/v1") || i64(1) || genesis || u32(1) || u8(tag) || u8(0)
# so trying every byte as the tag, with sha256() in SQL, finds the one the
# trigger wrote.  For each type, a domain over it and an array of it, the
# two must be the same, and wallet_ops_verify must then find a table with a
# NULL and a real value intact.  Types outside the table are refused.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('chain_format');
$node->init(extra => ['--encoding=UTF8', '--locale=C']);
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'wallet_ops'\nwallet_ops.naptime = 3600\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION wallet_ops');

my ($out, $err) = ('', '');
IPC::Run::run([ 'wallet_ops_verify', '--list-type-tags' ], '>', \$out, '2>', \$err);
is($? >> 8, 0, 'wallet_ops_verify --list-type-tags');
my @types = map { [ split /\t/ ] } split /\n/, $out;
cmp_ok(scalar(@types), '>=', 21, 'the verifier lists every type of the format');

# a value of each type, as an SQL literal
my %value = (
	'boolean' => 'true',
	'smallint' => '-2',
	'integer' => '40000',
	'bigint' => '9000000000',
	'numeric' => '12.50',
	'real' => '1.5',
	'double precision' => '0.1',
	'text' => 'café',
	'character varying' => 'Zoë',
	'character' => 'ab',
	'name' => 'nom',
	'json' => '{"b": 1,  "a": [1, 2.0]}',
	'jsonb' => '{"b": 1, "a": [1, 2.0], "ü": "ß"}',
	'bytea' => '\xdeadbeef',
	'uuid' => 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
	'timestamp with time zone' => '2026-03-01 12:00:00.123456+00',
	'timestamp without time zone' => '2026-03-01 12:00:00',
	'date' => '2026-03-01',
	'inet' => '192.168.1.5/24',
	'cidr' => '10.0.0.0/8',
	'interval' => '1 mon 2 days 03:04:05.5');

# The tag the trigger wrote into the hash of table $tbl's first row (NULL).
sub server_tag
{
	my ($tbl) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT string_agg(chr(c), '')
		  FROM $tbl, generate_series(1, 255) c
		 WHERE chain_seq = 1
		   AND row_hash = sha256('\\x00000011'::bytea || convert_to('wallet_ops/row/v1', 'UTF8')
		                         || int8send(chain_seq) || prev_hash || '\\x00000001'::bytea
		                         || set_byte('\\x0000'::bytea, 0, c))});
}

my $n = 0;
for my $t (@types)
{
	my ($oid, $typname, $tag) = @$t;
	ok(exists $value{$typname}, "a test value for $typname");
	my $lit = $node->safe_psql('postgres', "SELECT quote_literal(\$v\$$value{$typname}\$v\$)");
	$n++;
	my @cases = (
		[ "s$n", $typname, "${lit}::$typname", $tag ],
		[ "d$n", "dom$n", "${lit}::$typname", $tag ],
		[ "a$n", "$typname\[\]", "ARRAY[${lit}::$typname, NULL]", 'A' ]);
	$node->safe_psql('postgres', "CREATE DOMAIN dom$n AS $typname");
	is($node->safe_psql('postgres', "SELECT oid FROM pg_type WHERE oid = '$typname'::regtype"),
		$oid, "$typname has OID $oid");
	for my $c (@cases)
	{
		my ($tbl, $coltype, $val, $want) = @$c;
		$node->safe_psql('postgres', qq{
			CREATE TABLE $tbl (v $coltype);
			SELECT wallet_ops.enable_hash_chain('$tbl');
			INSERT INTO $tbl VALUES (NULL);
			INSERT INTO $tbl VALUES ($val);});
		is(server_tag($tbl), $want, "server writes tag $want for $coltype ($typname)");
		my ($o, $e) = ('', '');
		IPC::Run::run([ 'wallet_ops_verify', $node->connstr('postgres'), $tbl ],
			'>', \$o, '2>', \$e);
		is($? >> 8, 0, "wallet_ops_verify recomputes the hashes of a $coltype column")
		  or diag("$o$e");
	}
}

# types outside the table are refused by the server
for my $typname ('money', 'time', 'xml', 'int4range', 'point', 'bit(3)')
{
	$n++;
	$node->safe_psql('postgres', "CREATE TABLE r$n (v $typname)");
	my ($rc, $o, $e) = $node->psql('postgres', "SELECT wallet_ops.enable_hash_chain('r$n')");
	like($e, qr/cannot be hashed canonically/, "$typname is refused");
	ok(!grep({ $_->[1] eq $typname } @types), "$typname is not in the verifier's table");
}

$node->stop;
done_testing();
