# pg_upgrade from an older major version to this one, with wallet_ops: a
# chain written on the old server verifies on the new one with the same
# bytes, append-only protection holds, and the worker maintains the
# upgraded database without further steps.
#
# The old installation is the one whose pg_config
# WALLET_OPS_UPGRADE_FROM_PG_CONFIG names, with wallet_ops installed there;
# skipped otherwise.  scripts/test.sh sets it, on versions after 15, to a
# PostgreSQL 15 built from Debian's source: the packaged 15.20 of this
# machine stamps an attribute option pg_attver on every column (it cannot
# be reset), which pg_restore of 18 refuses ("unrecognized parameter").
use strict;
use warnings;
use File::Basename;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $old_pg_config = $ENV{WALLET_OPS_UPGRADE_FROM_PG_CONFIG};
plan skip_all => 'WALLET_OPS_UPGRADE_FROM_PG_CONFIG names no older installation'
  unless $old_pg_config && -x $old_pg_config;
my $old_bindir = `$old_pg_config --bindir`;
chomp $old_bindir;
my $old_libdir = `$old_pg_config --pkglibdir`;
chomp $old_libdir;
plan skip_all => "wallet_ops is not installed in $old_libdir"
  unless -f "$old_libdir/wallet_ops.so";

my $conf = qq{
shared_preload_libraries = 'wallet_ops'
wallet_ops.naptime = 1
};
my $old = PostgreSQL::Test::Cluster->new('old', install_path => dirname($old_bindir));
$old->init(extra => ['--encoding=UTF8', '--locale=C']);
$old->append_conf('postgresql.conf', $conf);
$old->start;
my $new = PostgreSQL::Test::Cluster->new('new');
my ($old_major) = $old->pg_version =~ /^(\d+)/;
my ($new_major) = $new->pg_version =~ /^(\d+)/;
plan skip_all => "the old installation is of the same major version ($new_major)"
  unless $old_major < $new_major;

$old->safe_psql('postgres', 'CREATE DATABASE app');
$old->safe_psql('app', q{
CREATE EXTENSION wallet_ops;
CREATE TABLE entity_history (
    history_id bigint GENERATED ALWAYS AS IDENTITY,
    entity_id  int NOT NULL,
    payload    jsonb NOT NULL,
    amount     numeric,
    seen       timestamptz NOT NULL,
    addr       inet,
    tags       text[]
) PARTITION BY RANGE (seen);
SELECT count(*) FROM wallet_ops.manage_partitions('entity_history', 'month', 2);
SELECT wallet_ops.enable_hash_chain('entity_history', '{entity_id}');
INSERT INTO entity_history (entity_id, payload, amount, seen, addr, tags)
SELECT g % 13, jsonb_build_object('g', g, 'name', 'Zoë ' || g, 'nested', jsonb_build_array(g, null, true)),
       g / 7.0, now() - g * interval '1 minute', '10.0.0.1/24', ARRAY['a', NULL, 'ö']
  FROM generate_series(1, 1300) g;
CREATE TABLE ev (at timestamptz NOT NULL) PARTITION BY RANGE (at);
SELECT count(*) FROM wallet_ops.manage_partitions('ev', 'month', 2);
CREATE TABLE audit_log (id bigint GENERATED ALWAYS AS IDENTITY, note text);
SELECT wallet_ops.enforce_append_only('audit_log');
INSERT INTO audit_log (note) VALUES ('written before the upgrade');
});
my $hashes = q{SELECT md5(string_agg(encode(row_hash, 'hex'), ',' ORDER BY history_id)) FROM entity_history};
my $hashes_before = $old->safe_psql('app', $hashes);
my $digest = $old->safe_psql('app', q{SELECT wallet_ops.chain_digest('entity_history')});
is($old->safe_psql('app', q{SELECT count(*) FROM wallet_ops.verify_chain('entity_history')}),
	'0', 'the chain verifies on the old server (' . $old->pg_version . ')');
$old->stop;

# same initdb options as the old cluster (checksums are on by default since 18)
my @extra = ('--encoding=UTF8', '--locale=C');
push @extra, '--no-data-checksums' if $new->pg_version >= 18;
$new->init(extra => \@extra);
$new->append_conf('postgresql.conf', $conf);
my $bindir = $new->config_data('--bindir');
chdir $new->basedir;
command_ok(
	[
		'pg_upgrade', '--no-sync',
		'-d', $old->data_dir, '-D', $new->data_dir,
		'-b', $old_bindir, '-B', $bindir,
		'-s', $new->host, '-p', $old->port, '-P', $new->port
	],
	'pg_upgrade from ' . $old->pg_version . ' to ' . $new->pg_version . ' succeeds');

$new->start;
is($new->safe_psql('app', $hashes), $hashes_before, 'every row hash is byte for byte the same');
is($new->safe_psql('app', q{SELECT count(*) FROM wallet_ops.verify_chain('entity_history')}),
	'0', 'the chain verifies on the new server (' . $new->pg_version . ')');
(my $digest_sql = $digest) =~ s/'/''/g;
is($new->safe_psql('app',
		qq{SELECT count(*) FROM wallet_ops.verify_against_digest('entity_history', '$digest_sql')}),
	'0', 'and against the digest taken on the old server');
$new->safe_psql('app', q{
INSERT INTO entity_history (entity_id, payload, seen) SELECT g % 13, '{"after": true}', now() FROM generate_series(1, 130) g});
is($new->safe_psql('app', q{SELECT count(*) FROM wallet_ops.verify_chain('entity_history')}),
	'0', 'rows chained after the upgrade extend the old chains');

my ($ret, $out, $err) = $new->psql('app', q{DELETE FROM audit_log});
like($err, qr/append-only/, 'the append-only table is still protected');
is($new->safe_psql('app', q{SELECT string_agg(note, ',') FROM audit_log}),
	'written before the upgrade', 'and keeps its row');

# the worker maintains the upgraded database: a dropped future partition comes back
my $future = $new->safe_psql('app', q{
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'ev'::regclass AND c.relname <> 'ev_default'
 ORDER BY c.relname DESC LIMIT 1});
$new->safe_psql('app', qq{DROP TABLE $future});
ok($new->poll_query_until('app', qq{SELECT to_regclass('$future') IS NOT NULL}),
	"the worker makes the dropped future partition $future again");

done_testing();
