# What PostgreSQL 18 added that touches hash-chained and append-only
# tables, checked rather than assumed (skipped before 18):
#   - virtual generated columns (the default kind of generated column in
#     18): not stored, so not hashed; the chain verifies, and changing the
#     expression, which would change what every row reads as, is refused;
#   - uuidv7() as the default of a chain key column;
#   - RETURNING OLD/NEW does not open a door for UPDATE;
#   - NOT NULL constraints as catalog entries: dropping one changes no
#     stored value and stays allowed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('pg18');
plan skip_all => 'PostgreSQL 18 features: this is ' . $node->pg_version
  if $node->pg_version < 18;
$node->init(extra => ['--encoding=UTF8', '--locale=C']);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'wallet_ops'\nwallet_ops.naptime = 3600\n");
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION wallet_ops;
CREATE TABLE eh (
    id bigint GENERATED ALWAYS AS IDENTITY,
    entity_id uuid NOT NULL DEFAULT uuidv7(),
    amount numeric NOT NULL,
    doubled numeric GENERATED ALWAYS AS (amount * 2));
SELECT wallet_ops.enable_hash_chain('eh', '{entity_id}');
INSERT INTO eh (amount) SELECT g FROM generate_series(1, 5) g;
INSERT INTO eh (entity_id, amount) SELECT entity_id, 9 FROM eh ORDER BY id LIMIT 1;
});
is($node->safe_psql('postgres', q{SELECT attgenerated FROM pg_attribute WHERE attrelid = 'eh'::regclass AND attname = 'doubled'}),
	'v', 'a generated column is virtual by default');
is($node->safe_psql('postgres', q{SELECT hashed_columns FROM wallet_ops.hash_chains WHERE relid = 'eh'::regclass}),
	'{id,entity_id,amount}', 'the virtual column is not among the hashed columns');
is($node->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('eh')}),
	'0', 'a chain keyed by uuidv7() values verifies');
is($node->safe_psql('postgres', q{SELECT count(DISTINCT entity_id) || ' chains, ' || max(chain_seq) FROM eh}),
	'5 chains, 2', 'each uuidv7() key is a chain of its own');

my $before = $node->safe_psql('postgres', q{SELECT string_agg(doubled::text, ',' ORDER BY id) FROM eh});
my ($ret, $out, $err) = $node->psql('postgres',
	q{ALTER TABLE eh ALTER COLUMN doubled SET EXPRESSION AS (amount * 3)});
like($err, qr/cannot change column "doubled" of append-only table "eh"/,
	'changing the expression of a virtual column is refused');
is($node->safe_psql('postgres', q{SELECT string_agg(doubled::text, ',' ORDER BY id) FROM eh}),
	$before, 'and the rows read as before');

($ret, $out, $err) = $node->psql('postgres',
	q{UPDATE eh SET amount = 0 RETURNING old.amount, new.amount});
like($err, qr/cannot update append-only table "eh"/, 'UPDATE ... RETURNING OLD/NEW is refused');
is($node->safe_psql('postgres', q{SELECT count(*) FROM eh WHERE amount = 0}), '0', 'and changed nothing');

$node->safe_psql('postgres', q{ALTER TABLE eh ALTER COLUMN amount DROP NOT NULL});
is($node->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('eh')}),
	'0', 'dropping a NOT NULL constraint (a catalog entry in 18) changes no stored value');

# append-only with a virtual column
$node->safe_psql('postgres', q{
CREATE TABLE al (id int, v int GENERATED ALWAYS AS (id + 1) VIRTUAL);
SELECT wallet_ops.enforce_append_only('al');
INSERT INTO al VALUES (1);
});
($ret, $out, $err) = $node->psql('postgres', q{ALTER TABLE al ALTER COLUMN v SET EXPRESSION AS (id + 2)});
like($err, qr/append-only/, 'the same holds for an append-only table');
is($node->safe_psql('postgres', q{SELECT v FROM al}), '2', 'whose row reads as before');

done_testing();
