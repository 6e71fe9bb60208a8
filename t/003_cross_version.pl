# Hash chains across PostgreSQL versions: a chain written on an older server
# (the installation whose pg_config WALLET_OPS_OLD_PG_CONFIG names, with
# wallet_ops installed) is dumped with this installation's pg_dump and
# restored here; verify_chain is clean, and chain_seq, prev_hash and row_hash
# are byte-identical to the old server's, as are the chain heads.  New rows
# continue the chains.
#
#   WALLET_OPS_OLD_PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config \
#     PG_CONFIG=/path/to/18/bin/pg_config bash scripts/test.sh tap
use strict;
use warnings;
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $old_pg_config = $ENV{WALLET_OPS_OLD_PG_CONFIG} // '';
plan skip_all =>
  'WALLET_OPS_OLD_PG_CONFIG is not set (set it to the pg_config of an older installation with wallet_ops installed)'
  if $old_pg_config eq '';
plan skip_all => "WALLET_OPS_OLD_PG_CONFIG=$old_pg_config is not an executable pg_config"
  unless -x $old_pg_config;

my ($old_bindir, $old_sharedir) = map {
	my $v = `"$old_pg_config" --$_`;
	chomp $v;
	$v
} qw(bindir sharedir);
plan skip_all => "wallet_ops is not installed in the installation of $old_pg_config"
  unless -f "$old_sharedir/extension/wallet_ops.control";

my $conf = "shared_preload_libraries = 'wallet_ops'\nwallet_ops.naptime = 3600\n";

sub major_of
{
	my ($node) = @_;
	return (split /\./, '' . $node->pg_version)[0];
}

my $new = PostgreSQL::Test::Cluster->new('cross_new');
my $old = PostgreSQL::Test::Cluster->new('cross_old', install_path => dirname($old_bindir));
plan skip_all => sprintf('the installation of %s (%s) is not older than this one (%s)',
	$old_pg_config, $old->pg_version, $new->pg_version)
  unless major_of($old) < major_of($new);
note sprintf('old server %s, new server %s', $old->pg_version, $new->pg_version);

$old->init(extra => ['--encoding=UTF8', '--locale=C']);
$old->append_conf('postgresql.conf', $conf);
$old->start;
$old->safe_psql('postgres', 'CREATE DATABASE src');
$old->safe_psql('src', q{
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
       'Überweisung',
       jsonb_build_object('n', n, 'owner', 'Zoë Ørsted', 'nested', jsonb_build_object('€', n / 7.0)),
       n * 1.25,
       timestamptz '2026-01-01 00:00+00' + n * interval '11 hours'
  FROM generate_series(1, 100) n;

CREATE TABLE app.typed (
    k     integer NOT NULL,
    b     boolean, i2 smallint, i8 bigint, n numeric, r real, d double precision,
    t     text, c char(5), j json, jb jsonb, ba bytea, u uuid,
    tz    timestamptz, ts timestamp, dt date, ip inet, iv interval,
    ai    int[], an numeric[], af float4[]
);
SELECT wallet_ops.enable_hash_chain('app.typed', '{k}');
INSERT INTO app.typed VALUES (
    1, true, -2, 9000000000, 12.50, 1.5, 0.1,
    U&'caf\00E9 \00FCber', 'ab', '{"b": 1,  "a": [1, 2.0]}', '{"b": 1, "a": [1, 2.0], "ü": "ß"}', '\xdeadbeef',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '2026-03-01 12:00:00.123456+00', '2026-03-01 12:00:00', '2026-03-01',
    '192.168.1.5/24', make_interval(0, 1, 0, 2, 3, 4, 5.5),
    ARRAY[1, NULL, 3], '{{1.0,2},{3,NaN}}', '{NaN,-0.5,Infinity}');
INSERT INTO app.typed (k, d, r, tz, dt, n) VALUES
    (1, 'NaN', '-Infinity', '-infinity', 'infinity', 'Infinity'),
    (2, -0.0, 3.4e38, '1999-12-31 23:59:59.999999+00', '1999-12-31', '-0.000'),
    (1, NULL, NULL, NULL, NULL, NULL);
});

my %rows_sql = (
	'app.entity_history' =>
	  q{SELECT string_agg(entity_id || ':' || chain_seq || ':' || encode(prev_hash, 'hex') || ':' || encode(row_hash, 'hex'), ',' ORDER BY entity_id, chain_seq) FROM app.entity_history},
	'app.typed' =>
	  q{SELECT string_agg(k || ':' || chain_seq || ':' || encode(prev_hash, 'hex') || ':' || encode(row_hash, 'hex'), ',' ORDER BY k, chain_seq) FROM app.typed});
my $heads_sql =
  q{SELECT string_agg(relid::text || ':' || chain_key || ':' || last_seq || ':' || encode(last_hash, 'hex'), ',' ORDER BY relid::text, chain_key) FROM wallet_ops.chain_heads};

my (%old_rows, %digest);
for my $t (sort keys %rows_sql)
{
	is($old->safe_psql('src', "SELECT count(*) FROM wallet_ops.verify_chain('$t')"),
		'0', "$t verifies clean on the old server");
	$old_rows{$t} = $old->safe_psql('src', $rows_sql{$t});
	$digest{$t} = $old->safe_psql('src', "SELECT wallet_ops.chain_digest('$t')");
}
my $old_heads = $old->safe_psql('src', $heads_sql);
my $old_version = $old->safe_psql('src',
	q{SELECT extversion FROM pg_extension WHERE extname = 'wallet_ops'});

# the new installation's pg_dump, against the old server, as for an upgrade
my $dump = $new->basedir . '/src.dump';
$new->command_ok(['pg_dump', '-Fc', '-f', $dump, '-d', $old->connstr('src')],
	'pg_dump of the old server');
$old->stop;

$new->init(extra => ['--encoding=UTF8', '--locale=C']);
$new->append_conf('postgresql.conf', $conf);
$new->start;
$new->safe_psql('postgres', 'CREATE DATABASE dst');
# Restored through a script: a column option that only the old server knows
# is left out.  (Debian's 15.20 build, at least, gives every column
# "pg_attver", which pg_dump reproduces and no other server accepts.)
my $script = $new->basedir . '/src.sql';
$new->command_ok(['pg_restore', '-f', $script, $dump], 'pg_restore writes the restore script');
my $sql = slurp_file($script);
my $dropped = ($sql =~ s/^ALTER TABLE ONLY \S+ ALTER COLUMN \S+ SET \(pg_attver=\d+\);\n//mg) || 0;
note "left out $dropped pg_attver column options of the old server" if $dropped;
open(my $fh, '>', $script) or die "write $script: $!";
print $fh $sql;
close $fh;
$new->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $new->connstr('dst'), '-f', $script ],
	'the dump restores on the new server');
is($new->safe_psql('dst', q{SELECT extversion FROM pg_extension WHERE extname = 'wallet_ops'}),
	$old_version, 'the extension is restored at the old server\'s version');

for my $t (sort keys %rows_sql)
{
	is($new->safe_psql('dst', "SELECT count(*) FROM wallet_ops.verify_chain('$t')"),
		'0', "$t verifies clean on the new server");
	is($new->safe_psql('dst', $rows_sql{$t}), $old_rows{$t},
		"$t: chain_seq, prev_hash and row_hash byte-identical");
	is( $new->safe_psql('dst',
			"SELECT count(*) FROM wallet_ops.verify_against_digest('$t', '$digest{$t}')"),
		'0', "$t: the old server's digest matches");
}
is($new->safe_psql('dst', $heads_sql), $old_heads, 'chain heads identical');

# the new server continues the chains
$new->safe_psql('dst', q{
INSERT INTO app.entity_history (entity_id, kind, payload, changed_at)
VALUES ('00000000-0000-4000-8000-000000000001', 'after', '{}', '2026-02-20 00:00+00');
INSERT INTO app.typed (k, t) VALUES (2, 'after');
});
for my $t (sort keys %rows_sql)
{
	is($new->safe_psql('dst', "SELECT count(*) FROM wallet_ops.verify_chain('$t')"),
		'0', "$t verifies clean after new rows on the new server");
}
is( $new->safe_psql('dst',
		q{SELECT chain_seq FROM app.entity_history WHERE kind = 'after'}),
	$new->safe_psql('dst',
		q{SELECT max(chain_seq) FROM app.entity_history WHERE entity_id = '00000000-0000-4000-8000-000000000001' AND kind <> 'after'}) + 1,
	'a new row continues its chain');

$new->stop;
done_testing();
