# Disaster recovery drill: a base backup restored into a new cluster
# verifies clean against a digest taken before the backup, and a digest
# taken after it shows exactly the rows the restore lacks: for each chain,
# the range of chain_seq written after the backup.  Verified replay then
# rebuilds the entity state of the restore.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('ops_dr_primary');
$primary->init(allows_streaming => 1, extra => ['--encoding=UTF8', '--locale=C']);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'wallet_ops'
wallet_ops.naptime = 3600
});
$primary->start;
$primary->safe_psql('postgres', q{
CREATE EXTENSION wallet_ops;
CREATE TABLE entity_history (
    history_id bigint GENERATED ALWAYS AS IDENTITY,
    entity_id  int NOT NULL,
    payload    jsonb NOT NULL,
    changed_at timestamptz NOT NULL
) PARTITION BY RANGE (changed_at);
SELECT count(*) FROM wallet_ops.manage_partitions('entity_history', 'month');
SELECT wallet_ops.enable_hash_chain('entity_history', '{entity_id}');
INSERT INTO entity_history (entity_id, payload, changed_at)
SELECT n % 40, jsonb_build_object('state', n), now() - interval '1 day' + n * interval '1 second'
  FROM generate_series(1, 4000) n;
});
my $before = $primary->safe_psql('postgres', q{SELECT wallet_ops.chain_digest('entity_history')});
$primary->backup('bk');
my $last_id = $primary->safe_psql('postgres', q{SELECT max(history_id) FROM entity_history});

# after the backup: more rows in some chains, and two new chains
$primary->safe_psql('postgres', q{
INSERT INTO entity_history (entity_id, payload, changed_at)
SELECT n % 7 * 6, jsonb_build_object('state', -n), now() FROM generate_series(1, 70) n;
INSERT INTO entity_history (entity_id, payload, changed_at)
SELECT 100 + n % 2, '{"new": true}', now() FROM generate_series(1, 5) n;
});
my $after = $primary->safe_psql('postgres', q{SELECT wallet_ops.chain_digest('entity_history')});
# what the restore will lack: per chain, first and last chain_seq
my $lacking = $primary->safe_psql('postgres', qq{
SELECT string_agg(entity_id || ':' || lo || '-' || hi, ' ' ORDER BY entity_id::text)
  FROM (SELECT entity_id, min(chain_seq) lo, max(chain_seq) hi FROM entity_history
         WHERE history_id > $last_id GROUP BY entity_id) x});

my $restored = PostgreSQL::Test::Cluster->new('ops_dr_restored');
$restored->init_from_backup($primary, 'bk');
$restored->start;

is($restored->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 'f', 'the restore is a cluster of its own');
is($restored->safe_psql('postgres', q{SELECT count(*) FROM entity_history}), '4000',
	'the restore has the rows of the backup');
is($restored->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('entity_history')}),
	'0', 'the restore verifies clean');
is( $restored->safe_psql('postgres',
		qq{SELECT count(*) FROM wallet_ops.verify_against_digest('entity_history', '$before')}),
	'0', 'the restore verifies clean against the digest taken before the backup');
is( $restored->safe_psql('postgres',
		qq{SELECT count(*) FROM wallet_ops.verify_since_digest('entity_history', '$before')}),
	'0', 'and nothing was added since that digest');

# the digest taken after the backup: every chain that lacks rows, and how many
my $problems = $restored->safe_psql('postgres', qq{
SELECT string_agg(problem, ' ' ORDER BY problem) FROM (
  SELECT DISTINCT problem FROM wallet_ops.verify_against_digest('entity_history', '$after')) p});
is($problems, 'missing_row', 'against the later digest the only problem is missing rows');
my $found = $restored->safe_psql('postgres', qq{
WITH att AS (SELECT c->>'chain_key' AS k, (c->>'last_seq')::bigint AS s
               FROM jsonb_array_elements('$after'::jsonb->'chains') c),
     have AS (SELECT entity_id::text AS k, max(chain_seq) AS s FROM entity_history GROUP BY 1),
     miss AS (SELECT DISTINCT chain_key AS k
                FROM wallet_ops.verify_against_digest('entity_history', '$after')
               WHERE problem = 'missing_row')
SELECT string_agg(att.k || ':' || (COALESCE(have.s, 0) + 1) || '-' || att.s, ' ' ORDER BY att.k)
  FROM miss JOIN att ON att.k = miss.k LEFT JOIN have ON have.k = att.k});
is($found, $lacking,
	'the chains reported, from the restore\'s last chain_seq to the attested one, are exactly the rows written after the backup');

# verified replay of the restore: one row per entity, the last before the backup
is( $restored->safe_psql('postgres', q{
SELECT count(*), sum((row_data->'payload'->>'state')::int)
  FROM wallet_ops.replay('entity_history')}),
	'40|' . (3961 + 3962 + 3963 + 3964 + 3965 + 3966 + 3967 + 3968 + 3969 + 3970
	  + 3971 + 3972 + 3973 + 3974 + 3975 + 3976 + 3977 + 3978 + 3979 + 3980
	  + 3981 + 3982 + 3983 + 3984 + 3985 + 3986 + 3987 + 3988 + 3989 + 3990
	  + 3991 + 3992 + 3993 + 3994 + 3995 + 3996 + 3997 + 3998 + 3999 + 4000),
	'replay on the restore gives each entity its last state');
ok( $restored->poll_query_until('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'wallet_ops launcher'}, '1'),
	'the restored cluster runs its launcher');
is($restored->safe_psql('postgres', q{SELECT wallet_ops.health()->>'status'}), 'ok',
	'health() of the restore is ok');

$restored->stop;
$primary->stop;
done_testing();
