# Hash-chained tables distributed with Citus (docs/citus.md): a coordinator
# and one worker, shared_preload_libraries = 'citus,wallet_ops', the
# extension created on both.  Skips when Citus is not installed
# (scripts/build-citus.sh builds it from a source tarball).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use CitusCluster;

my ($coord, $worker) = CitusCluster::start('citus', 1);
is($coord->safe_psql('postgres', 'SELECT count(*) FROM citus_get_active_worker_nodes()'),
	'1', 'the coordinator has one worker');

# ---- order 1: distributed first, then chained ----------------------------
$coord->safe_psql('postgres', q{
CREATE TABLE eh (entity_id int NOT NULL, amount numeric, memo text);
SELECT create_distributed_table('eh', 'entity_id', shard_count => 4);
SELECT wallet_ops.enable_hash_chain('eh', '{entity_id}');
});
is($coord->safe_psql('postgres', q{
SELECT count(*) FROM run_command_on_shards('eh',
  $$SELECT count(*) FROM pg_trigger WHERE tgrelid = '%s'::regclass AND left(tgname, 25) = 'zzz_wallet_ops_hash_chain'$$)
 WHERE result = '1'}), '4', 'the chain trigger is on every shard');

$coord->safe_psql('postgres', q{
INSERT INTO eh SELECT 1 + n % 5, n * 0.25, 'Zoë ' || n FROM generate_series(1, 200) n;
INSERT INTO eh VALUES (3, 1, 'one more');
});
is($coord->safe_psql('postgres', q{
SELECT count(*) FROM (SELECT entity_id, count(*) c, max(chain_seq) m, count(DISTINCT chain_seq) d
                        FROM eh GROUP BY entity_id) s WHERE c = m AND c = d}),
	'5', 'every chain is numbered 1..n on its shard');

# the heads live beside the shards, on the worker
is($worker->safe_psql('postgres', q{
SELECT count(*) FROM wallet_ops.chain_heads h JOIN pg_dist_shard s
    ON h.relid::text = 'eh_' || s.shardid WHERE s.logicalrelid = 'eh'::regclass}),
	'5', 'one head per chain on the worker, keyed by its shard');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.chain_heads}),
	'0', 'no head on the coordinator');

# the same rows chained on one node have the same hashes
my $singles = 0;
sub same_as_single_node
{
	my ($table, $cols) = @_;
	my $single = 'single_' . ++$singles;
	my $out = $coord->safe_psql('postgres', qq{
CREATE TABLE $single ($cols);
SELECT wallet_ops.enable_hash_chain('$single', '{entity_id}');
INSERT INTO $single SELECT entity_id, amount, memo FROM $table ORDER BY entity_id, chain_seq;
SELECT count(*) FROM $table d FULL JOIN $single s USING (entity_id, chain_seq)
 WHERE d.row_hash IS DISTINCT FROM s.row_hash OR d.prev_hash IS DISTINCT FROM s.prev_hash;
});
	return (split /\n/, $out)[-1];
}
is(same_as_single_node('eh', 'entity_id int NOT NULL, amount numeric, memo text'),
	'0', 'hashes equal those of a single-node table for the same rows');

# ---- refusals -------------------------------------------------------------
my ($ret, $out, $err) = $coord->psql('postgres', q{
\set VERBOSITY sqlstate
CREATE TABLE by_other (entity_id int NOT NULL, account int NOT NULL, memo text);
SELECT create_distributed_table('by_other', 'account');
SELECT wallet_ops.enable_hash_chain('by_other', '{entity_id}');
});
like($err, qr/WO010/, 'a distribution column outside the chain key is refused (WO010)');

($ret, $out, $err) = $coord->psql('postgres', q{
\set VERBOSITY sqlstate
CREATE TABLE ref (entity_id int NOT NULL, memo text);
SELECT create_reference_table('ref');
SELECT wallet_ops.enable_hash_chain('ref', '{entity_id}');
});
like($err, qr/WO011/, 'a reference table is refused (WO011)');

($ret, $out, $err) = $coord->psql('postgres', q{
CREATE TABLE full_one (entity_id int NOT NULL, memo text);
SELECT create_distributed_table('full_one', 'entity_id');
INSERT INTO full_one VALUES (1, 'a');
SELECT wallet_ops.enable_hash_chain('full_one', '{entity_id}');
});
like($err, qr/because it has rows/, 'a distributed table with rows is refused');

($ret, $out, $err) = $coord->psql('postgres', q{INSERT INTO eh (entity_id, memo, chain_seq) VALUES (1, 'forged', 99)});
like($err, qr/cannot insert an already chained row into shard/, 'a row with chain values set is refused on the shard');

# a multi-column chain key distributed by one of its columns
$coord->safe_psql('postgres', q{
CREATE TABLE multi (tenant int NOT NULL, entity_id int NOT NULL, memo text);
SELECT create_distributed_table('multi', 'tenant', shard_count => 4);
SELECT wallet_ops.enable_hash_chain('multi', '{tenant,entity_id}');
INSERT INTO multi SELECT n % 3, n % 4, 'm' || n FROM generate_series(1, 60) n;
});
is($coord->safe_psql('postgres', q{
SELECT count(*) FROM (SELECT tenant, entity_id, count(*) c, max(chain_seq) m FROM multi
                       GROUP BY 1, 2) s WHERE c = m}),
	'12', 'a two-column chain key distributed by one of them');

# ---- order 2: chained first, then distributed ------------------------------
$coord->safe_psql('postgres', q{
CREATE TABLE eh2 (entity_id int NOT NULL, amount numeric, memo text);
SELECT wallet_ops.enable_hash_chain('eh2', '{entity_id}');
SET citus.enable_unsafe_triggers = on;
SELECT create_distributed_table('eh2', 'entity_id', shard_count => 4);
});
$coord->safe_psql('postgres', q{
INSERT INTO eh2 SELECT 1 + n % 5, n * 0.25, 'Zoë ' || n FROM generate_series(1, 100) n;
});
is($coord->safe_psql('postgres', q{
SELECT count(*) FROM (SELECT entity_id, count(*) c, max(chain_seq) m FROM eh2 GROUP BY 1) s WHERE c = m}),
	'5', 'chained then distributed: rows are chained on their shards');
is(same_as_single_node('eh2', 'entity_id int NOT NULL, amount numeric, memo text'),
	'0', 'with the hashes of a single-node table');

# with rows: refused while Citus copies them into the shards
($ret, $out, $err) = $coord->psql('postgres', q{
CREATE TABLE eh4 (entity_id int NOT NULL, memo text);
SELECT wallet_ops.enable_hash_chain('eh4', '{entity_id}');
INSERT INTO eh4 VALUES (1, 'sealed on the coordinator');
SET citus.enable_unsafe_triggers = on;
SELECT create_distributed_table('eh4', 'entity_id');
});
# (whether Citus copies them before or after the worker knows the shards)
like($err, qr/cannot distribute a hash-chained table that has rows|cannot insert an already chained row into shard/,
	'chained then distributed with rows: refused');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'eh4'::regclass}),
	'0', 'and the table stays local');

# a chain key that does not hold the distribution column: refused at the
# first insert, on the shard, naming the distributed table
($ret, $out, $err) = $coord->psql('postgres', q{
\set VERBOSITY sqlstate
CREATE TABLE eh3 (entity_id int NOT NULL, account int NOT NULL, memo text);
SELECT wallet_ops.enable_hash_chain('eh3', '{entity_id}');
SET citus.enable_unsafe_triggers = on;
SELECT create_distributed_table('eh3', 'account');
INSERT INTO eh3 VALUES (1, 2, 'x');
});
like($err, qr/WO010/, 'chained then distributed by another column: inserts are refused (WO010)');

# ---- through a worker (metadata is synced to it) ----------------------------
$worker->safe_psql('postgres', q{INSERT INTO eh SELECT 1 + n % 5, n, 'via the worker' FROM generate_series(1, 20) n});
is($coord->safe_psql('postgres', q{
SELECT count(*) FROM (SELECT entity_id, count(*) c, max(chain_seq) m FROM eh GROUP BY 1) s WHERE c = m}),
	'5', 'rows inserted through the worker are chained on their shards');

# a reference table chained first: refused at the first insert
($ret, $out, $err) = $coord->psql('postgres', q{
\set VERBOSITY sqlstate
CREATE TABLE ref2 (entity_id int NOT NULL, memo text);
SELECT wallet_ops.enable_hash_chain('ref2', '{entity_id}');
SET citus.enable_unsafe_triggers = on;
SELECT create_reference_table('ref2');
INSERT INTO ref2 VALUES (1, 'x');
});
like($err, qr/WO011/, 'chained then made a reference table: inserts are refused (WO011)');

# ---- concurrent inserts of one entity from several coordinator sessions ----
my $script = $coord->basedir . '/insert.sql';
PostgreSQL::Test::Utils::append_to_file($script,
	"INSERT INTO eh VALUES (1 + (random() * 2)::int, 1, 'concurrent');\n");
$coord->command_ok(
	[ 'pgbench', '-n', '-c', '4', '-j', '4', '-t', '50', '-f', $script,
	  '-h', $coord->host, '-p', $coord->port, 'postgres' ],
	'four sessions insert into three chains at once');
is($coord->safe_psql('postgres', q{
SELECT count(*) FROM (SELECT entity_id, count(*) c, max(chain_seq) m, count(DISTINCT chain_seq) d
                        FROM eh GROUP BY entity_id) s WHERE c <> m OR c <> d}),
	'0', 'no chain forked: every chain is still numbered 1..n');
is(same_as_single_node('eh', 'entity_id int NOT NULL, amount numeric, memo text'),
	'0', 'and its hashes are those of a single-node table');
my $seqs = $coord->safe_psql('postgres', q{SELECT string_agg(entity_id || ':' || m, ',' ORDER BY entity_id)
  FROM (SELECT entity_id, max(chain_seq) m FROM eh GROUP BY 1) s});
is($worker->safe_psql('postgres', q{
SELECT string_agg(chain_key || ':' || last_seq, ',' ORDER BY chain_key::int) FROM wallet_ops.chain_heads h
  JOIN pg_dist_shard s ON h.relid::text = 'eh_' || s.shardid WHERE s.logicalrelid = 'eh'::regclass}),
	$seqs, 'the heads beside the shards are the chains\' last rows');

# ---- append-only on distributed tables: refusals name the table -----------
$coord->safe_psql('postgres', q{
CREATE TABLE al (entity_id int NOT NULL, memo text);
SELECT create_distributed_table('al', 'entity_id', shard_count => 4);
SELECT wallet_ops.enforce_append_only('al');
INSERT INTO al SELECT n, 'a' || n FROM generate_series(1, 10) n;
});
for my $t ([ 'al', 'UPDATE al SET memo = 1 WHERE entity_id = 3', 'update' ],
	[ 'al', 'DELETE FROM al WHERE entity_id = 3', 'delete from' ],
	[ 'eh', 'UPDATE eh SET memo = 1 WHERE entity_id = 3', 'update' ],
	[ 'eh', 'DELETE FROM eh', 'delete from' ])
{
	my ($table, $sql, $what) = @$t;
	($ret, $out, $err) = $coord->psql('postgres', $sql);
	like($err, qr/cannot $what append-only table "$table"\n/, "$sql: refused, naming the distributed table");
}
($ret, $out, $err) = $coord->psql('postgres', 'TRUNCATE al');
like($err, qr/cannot truncate append-only table "al"/, 'TRUNCATE: refused');
my $al_shard = $coord->safe_psql('postgres',
	q{SELECT shard_name('al', get_shard_id_for_distribution_column('al', 3))});
($ret, $out, $err) = $worker->psql('postgres', "UPDATE $al_shard SET memo = 'x'");
like($err, qr/cannot update append-only table "al"\n/, 'a shard updated on the worker: refused, naming the table');
# a shard truncated directly on the worker, also past Citus's own refusal
# (Citus does not copy the TRUNCATE guard onto the shards of a table
# protected after it was distributed)
my $al_rows = $worker->safe_psql('postgres', "SELECT count(*) FROM $al_shard");
ok($al_rows > 0, "shard $al_shard holds $al_rows rows");
($ret, $out, $err) = $worker->psql('postgres', "TRUNCATE $al_shard");
like($err, qr/cannot truncate append-only table "al"\n/, 'TRUNCATE of a shard on the worker: refused, naming the table');
($ret, $out, $err) = $worker->psql('postgres', qq{
SET citus.enable_manual_changes_to_shards = on;
TRUNCATE $al_shard});
like($err, qr/cannot truncate append-only table "al"\n/,
	'and with citus.enable_manual_changes_to_shards on, by wallet_ops, naming the table');
is($worker->safe_psql('postgres', "SELECT count(*) FROM $al_shard"), $al_rows, 'the shard keeps its rows');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM al'), '10', 'no row of the protected table was lost');

# ---- verify_chain on the coordinator: every shard at once ------------------
is($coord->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('eh')}),
	'0', 'verify_chain on the coordinator: the distributed table is intact');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('eh2')}),
	'0', 'and so is the table chained before it was distributed');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('eh', '3')}),
	'0', 'one chain verifies clean');

# one digest for the whole table, over the shards' heads: the digest of the
# same rows in one table on one node
my $single = 'single_' . $singles;
is($coord->safe_psql('postgres', qq{
SELECT d->>'merkle_root' || ' ' || (d->>'chain_count') || ' ' || (d->>'row_count')
  FROM wallet_ops.chain_digest('eh') d}),
	$coord->safe_psql('postgres', qq{
SELECT d->>'merkle_root' || ' ' || (d->>'chain_count') || ' ' || (d->>'row_count')
  FROM wallet_ops.chain_digest('$single') d}),
	'chain_digest of the distributed table equals that of the same rows on one node');
# verify_against_digest: every shard against the whole table's digest
my $d1 = $coord->safe_psql('postgres', q{SELECT wallet_ops.chain_digest('eh')});
$coord->safe_psql('postgres', q{INSERT INTO eh SELECT 1 + n % 7, n, 'after the digest' FROM generate_series(1, 30) n});
is($coord->safe_psql('postgres', qq{SELECT count(*) FROM wallet_ops.verify_against_digest('eh', '$d1')}),
	'0', 'verify_against_digest: the table still extends its digest (chains on other shards are not missing)');
is($coord->safe_psql('postgres', qq{
SELECT string_agg(coalesce(chain_key, '-') || ' ' || problem, ', ' ORDER BY chain_key NULLS FIRST)
  FROM wallet_ops.verify_against_digest('eh',
         jsonb_set('$d1'::jsonb, '{chains}', ('$d1'::jsonb -> 'chains') ||
           '[{"chain_key": "999", "last_seq": 1, "head_hash": "0000000000000000000000000000000000000000000000000000000000000000"}]'))}),
	'- digest_mismatch, 999 missing_row', 'a chain attested but on no shard is missing, once');
# verify_since_digest: every shard since the whole table's digest, at once
is($coord->safe_psql('postgres', qq{SELECT count(*) FROM wallet_ops.verify_since_digest('eh', '$d1')}),
	'0', 'verify_since_digest on the coordinator: the rows added since the digest are clean');
is($coord->safe_psql('postgres', qq{
SELECT string_agg(coalesce(chain_key, '-') || ' ' || chain_seq || ' ' || problem, ', ' ORDER BY chain_key NULLS FIRST)
  FROM wallet_ops.verify_since_digest('eh',
         jsonb_set('$d1'::jsonb, '{chains}', ('$d1'::jsonb -> 'chains') ||
           '[{"chain_key": "999", "last_seq": 1, "head_hash": "0000000000000000000000000000000000000000000000000000000000000000"}]'))}),
	'999 1 head_mismatch', 'since a digest, a chain attested but on no shard is reported, once');
# the scheduled verification: in full, then incrementally from its anchor
$coord->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.run_verification('eh', false)});
$coord->safe_psql('postgres', q{INSERT INTO eh SELECT 1 + n % 7, n, 'after the anchor' FROM generate_series(1, 14) n});
is($coord->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.run_verification('eh')}),
	'0', 'run_verification incremental of the distributed table: clean');
is($coord->safe_psql('postgres', q{
SELECT last_mode || ' ' || last_result FROM wallet_ops.verification_state WHERE relid = 'eh'::regclass}),
	'incremental ok', 'recorded as an incremental verification');
is($worker->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('eh_' || get_shard_id_for_distribution_column('eh', 3))}),
	'0', 'verify_chain of one shard on the worker');

# wallet_ops_verify pointed at the coordinator
{
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'wallet_ops_verify', $coord->connstr('postgres'), 'eh' ], '>', \$out, '2>', \$err);
	is($? >> 8, 0, 'wallet_ops_verify pointed at the coordinator: intact');
	note("$out$err");
}

# a row changed on the worker's shard, around the append-only guard
my $shard = $coord->safe_psql('postgres',
	q{SELECT shard_name('eh', get_shard_id_for_distribution_column('eh', 3))});
(my $shardid = $shard) =~ s/.*_//;
$worker->safe_psql('postgres', qq{
ALTER TABLE $shard DISABLE TRIGGER wallet_ops_append_only_row_$shardid;
UPDATE $shard SET memo = 'rewritten' WHERE entity_id = 3 AND chain_seq = 2;
});
is($coord->safe_psql('postgres', q{SELECT chain_key || ' ' || chain_seq || ' ' || problem FROM wallet_ops.verify_chain('eh')}),
	'3 2 hash_mismatch', 'a row changed on a worker is found from the coordinator at its chain and seq');
is($coord->safe_psql('postgres', q{SELECT chain_key || ' ' || chain_seq || ' ' || problem FROM wallet_ops.verify_chain('eh', '3')}),
	'3 2 hash_mismatch', 'and by the verification of that chain alone');
is($coord->safe_psql('postgres', qq{SELECT chain_key || ' ' || chain_seq || ' ' || problem FROM wallet_ops.verify_against_digest('eh', '$d1')}),
	'3 2 hash_mismatch', 'and by verify_against_digest');
{
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'wallet_ops_verify', $coord->connstr('postgres'), 'eh' ], '>', \$out, '2>', \$err);
	is($? >> 8, 1, 'and by wallet_ops_verify pointed at the coordinator');
	like("$out$err", qr/hash_mismatch: chain "3" chain_seq 2\b/, 'at its chain and seq');
}

# since the digest: the row changed before it is not read, one changed
# after it is found, at its chain and seq, in the distributed table's name
is($coord->safe_psql('postgres', qq{SELECT count(*) FROM wallet_ops.verify_since_digest('eh', '$d1')}),
	'0', 'verify_since_digest does not read the rows the digest attested');
my $last3 = $coord->safe_psql('postgres', q{SELECT max(chain_seq) FROM eh WHERE entity_id = 3});
my $att3 = $coord->safe_psql('postgres', qq{
SELECT c->>'last_seq' FROM jsonb_array_elements('$d1'::jsonb -> 'chains') c WHERE c->>'chain_key' = '3'});
ok($last3 > $att3, "chain 3 has rows after the digest (seq $att3 to $last3)");
my $mid3 = $att3 + 1;
$worker->safe_psql('postgres', qq{
UPDATE $shard SET memo = 'rewritten after the digest' WHERE entity_id = 3 AND chain_seq = $mid3;
});
is($coord->safe_psql('postgres', qq{
SELECT string_agg(chain_key || ' ' || chain_seq || ' ' || problem, ', ') FROM wallet_ops.verify_since_digest('eh', '$d1')}),
	"3 $mid3 hash_mismatch", 'verify_since_digest finds a row changed after the digest at its chain and seq');
# the incremental scheduled verification reads from its anchor, the digest
# of its last clean run: a row changed after that is found
$coord->safe_psql('postgres', q{INSERT INTO eh SELECT n, n, 'after the last run' FROM generate_series(1, 7) n});
my $new3 = $coord->safe_psql('postgres', q{SELECT max(chain_seq) FROM eh WHERE entity_id = 3});
$worker->safe_psql('postgres', qq{
UPDATE $shard SET memo = 'rewritten after the anchor' WHERE entity_id = 3 AND chain_seq = $new3;
});
is($coord->safe_psql('postgres', q{
SELECT string_agg(chain_key || ' ' || chain_seq || ' ' || problem, ', ') FROM wallet_ops.run_verification('eh')}),
	"3 $new3 hash_mismatch", 'the incremental scheduled verification finds a row changed after its anchor');
is($coord->safe_psql('postgres', q{
SELECT last_mode || ' ' || last_result || ' ' || problems FROM wallet_ops.verification_state WHERE relid = 'eh'::regclass}),
	'incremental problems 1', 'recorded as such');

# a worker that does not answer: an error, never an intact table
$worker->stop('immediate');
($ret, $out, $err) = $coord->psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('eh')});
isnt($ret, 0, 'verify_chain fails when a worker is down');
like($err, qr/could not verify shard \d+ of table "eh"/, 'and says which shard it could not verify');
is($out, '', 'and reports nothing as intact');

$coord->stop;
done_testing();
