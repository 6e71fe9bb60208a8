# Row hashes do not depend on the database encoding: text, json, jsonb,
# arrays of text and chain keys are hashed as UTF-8, so a LATIN1 database
# and a UTF8 database holding the same values produce the same hashes and
# the same digest.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('chain_encoding');
$node->init(extra => ['--encoding=UTF8', '--locale=C']);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'wallet_ops'\nwallet_ops.naptime = 3600\n");
$node->start;
$node->safe_psql('postgres', q{CREATE DATABASE u8 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
$node->safe_psql('postgres', q{CREATE DATABASE l1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});

my $setup = q{
CREATE EXTENSION wallet_ops;
CREATE TABLE t (k text NOT NULL, s text, c char(6), j json, jb jsonb, a text[]);
SELECT wallet_ops.enable_hash_chain('t', '{k}');
INSERT INTO t VALUES (U&'caf\00E9', U&'\00C5ngstr\00F6m', U&'\00E9t\00E9',
                      U&'{"\00FC": "\00DF"}', U&'{"\00FC": "\00DF", "a": 1}', ARRAY[U&'\00E0', 'b']),
                     (U&'caf\00E9', 'plain', 'x', '[]', '{}', '{}'),
                     ('tea', U&'na\00EFve', NULL, NULL, NULL, NULL);
};
$node->safe_psql($_, $setup) for ('u8', 'l1');

my $q = q{SELECT string_agg(encode(convert_to(k, 'UTF8'), 'hex') || ':' || chain_seq || ':' || encode(row_hash, 'hex'), ',' ORDER BY k, chain_seq) FROM t};
my $u8 = $node->safe_psql('u8', $q);
is($node->safe_psql('l1', q{SHOW server_encoding}), 'LATIN1', 'second database is LATIN1');
is($node->safe_psql('l1', $q), $u8, 'same row hashes in a LATIN1 and a UTF8 database');
my $root = q{SELECT wallet_ops.chain_digest('t')->>'merkle_root'};
is($node->safe_psql('l1', $root), $node->safe_psql('u8', $root), 'same digest Merkle root');
is($node->safe_psql('l1', q{SELECT count(*) FROM wallet_ops.verify_chain('t')}), '0', 'LATIN1 table verifies clean');
is($node->safe_psql('l1', q{SELECT count(*) FROM wallet_ops.verify_chain('t', U&'caf\00E9')}), '0', 'a non-ASCII chain verifies by name');

$node->stop;
done_testing();
