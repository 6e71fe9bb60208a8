# A hash-chained partitioned table survives pg_dump / pg_restore into a new
# database: rows keep their hashes, the chain configuration and heads come
# along (regclass columns are dumped as names), verify_chain is clean, the
# digest taken before the dump still matches, and new inserts continue the
# chains.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('chain_dump');
$node->init(extra => ['--encoding=UTF8', '--locale=C']);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'wallet_ops'\nwallet_ops.naptime = 3600\n");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
CREATE EXTENSION wallet_ops;
CREATE SCHEMA app;
CREATE TABLE app.entity_history (
    history_id  bigint GENERATED ALWAYS AS IDENTITY,
    entity_id   uuid NOT NULL,
    payload     jsonb NOT NULL,
    changed_at  timestamptz NOT NULL,
    PRIMARY KEY (history_id, changed_at)
) PARTITION BY RANGE (changed_at);
CREATE TABLE app.entity_history_2026_01 PARTITION OF app.entity_history
  FOR VALUES FROM ('2026-01-01 00:00+00') TO ('2026-02-01 00:00+00');
CREATE TABLE app.entity_history_2026_02 PARTITION OF app.entity_history
  FOR VALUES FROM ('2026-02-01 00:00+00') TO ('2026-03-01 00:00+00');
SELECT wallet_ops.enable_hash_chain('app.entity_history', '{entity_id}');
INSERT INTO app.entity_history (entity_id, payload, changed_at)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(1 + n % 5), 12, '0'))::uuid,
       jsonb_build_object('n', n, 'owner', 'Zoë Ørsted'),
       timestamptz '2026-01-01 00:00+00' + n * interval '11 hours'
  FROM generate_series(1, 100) n;
});

my $hashes_sql = q{SELECT md5(string_agg(entity_id || ':' || chain_seq || ':' || encode(prev_hash, 'hex') || ':' || encode(row_hash, 'hex'), ',' ORDER BY entity_id, chain_seq)) FROM app.entity_history};
my $heads_sql = q{SELECT string_agg(relid::text || ':' || chain_key || ':' || last_seq || ':' || encode(last_hash, 'hex'), ',' ORDER BY chain_key) FROM wallet_ops.chain_heads};
my $src_hashes = $node->safe_psql('src', $hashes_sql);
my $src_heads = $node->safe_psql('src', $heads_sql);
my $digest = $node->safe_psql('src', q{SELECT wallet_ops.chain_digest('app.entity_history')});
is($node->safe_psql('src', q{SELECT count(*) FROM wallet_ops.verify_chain('app.entity_history')}),
	'0', 'source verifies clean');

my $dump = $node->basedir . '/src.dump';
$node->command_ok(['pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('src')], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->command_ok(['pg_restore', '-d', $node->connstr('dst'), $dump], 'pg_restore');

is($node->safe_psql('dst', $hashes_sql), $src_hashes, 'rows keep chain_seq, prev_hash and row_hash');
is($node->safe_psql('dst', $heads_sql), $src_heads, 'chain heads restored, relid by name');
is($node->safe_psql('dst', q{SELECT relid::text || ' ' || chain_key::text || ' ' || hashed_columns::text FROM wallet_ops.hash_chains}),
	'app.entity_history {entity_id} {history_id,entity_id,payload,changed_at}', 'configuration restored');
is($node->safe_psql('dst', q{SELECT count(*) FROM wallet_ops.verify_chain('app.entity_history')}),
	'0', 'restored table verifies clean');
is($node->safe_psql('dst', qq{SELECT count(*) FROM wallet_ops.verify_against_digest('app.entity_history', '$digest')}),
	'0', 'digest taken before the dump matches the restored table');
is($node->safe_psql('dst', q{SELECT count(*) FROM pg_trigger WHERE tgname = 'zzz_wallet_ops_hash_chain'}),
	'3', 'trigger on the parent and both partitions');

# new rows continue the chains (and a new partition gets the trigger)
$node->safe_psql('dst', q{
CREATE TABLE app.entity_history_2026_03 PARTITION OF app.entity_history
  FOR VALUES FROM ('2026-03-01 00:00+00') TO ('2026-04-01 00:00+00');
INSERT INTO app.entity_history (entity_id, payload, changed_at)
VALUES ('00000000-0000-4000-8000-000000000001', '{"after": "restore"}', '2026-03-02 00:00+00'),
       ('00000000-0000-4000-8000-000000000009', '{"new": "chain"}', '2026-03-02 00:00+00');
});
is($node->safe_psql('dst', q{SELECT string_agg(entity_id || ':' || chain_seq, ',' ORDER BY entity_id) FROM app.entity_history WHERE changed_at >= '2026-03-01'}),
	'00000000-0000-4000-8000-000000000001:21,00000000-0000-4000-8000-000000000009:1',
	'inserts after the restore continue the chains');
is($node->safe_psql('dst', q{SELECT count(*) FROM wallet_ops.verify_chain('app.entity_history')}),
	'0', 'restored table still verifies clean after new inserts');
is($node->safe_psql('dst', qq{SELECT count(*) FROM wallet_ops.verify_against_digest('app.entity_history', '$digest')}),
	'0', 'the chains still extend what the old digest attested');

# a tampered restored row is found (the check is not vacuous)
$node->safe_psql('dst', q{SET client_min_messages = error; SELECT wallet_ops.release_append_only('app.entity_history'); SET session_replication_role = replica; UPDATE app.entity_history SET payload = '{"n": 0}' WHERE chain_seq = 3 AND entity_id = '00000000-0000-4000-8000-000000000002'});
is($node->safe_psql('dst', q{SELECT chain_key || ' ' || chain_seq || ' ' || problem FROM wallet_ops.verify_chain('app.entity_history')}),
	'00000000-0000-4000-8000-000000000002 3 hash_mismatch', 'tampering after restore is detected');

$node->stop;
done_testing();
