# pg_upgrade with wallet_ops preloaded: the servers pg_upgrade starts run in
# binary-upgrade mode and get no wallet_ops worker; the configuration
# (a regclass column) survives, and the upgraded server maintains it.
use strict;
use warnings;
use File::Find;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $conf = qq{
shared_preload_libraries = 'wallet_ops'
wallet_ops.naptime = 1
};
my $old = PostgreSQL::Test::Cluster->new('old');
$old->init;
$old->append_conf('postgresql.conf', $conf);
$old->start;
$old->safe_psql('postgres', 'CREATE DATABASE app');
$old->safe_psql('app', q{
CREATE EXTENSION wallet_ops;
CREATE TABLE ev (at timestamptz NOT NULL) PARTITION BY RANGE (at);
SELECT count(*) FROM wallet_ops.manage_partitions('ev', 'month', 2);
});
my $config = 'SELECT relid, period, premake, time_zone FROM wallet_ops.partition_config';
my $before = $old->safe_psql('app', $config);
ok($old->log_contains('wallet_ops launcher started'), 'the old server ran the launcher');
$old->stop;

my $new = PostgreSQL::Test::Cluster->new('new');
$new->init;
$new->append_conf('postgresql.conf', $conf);

my $bindir = $new->config_data('--bindir');
chdir $new->basedir;
command_ok(
	[
		'pg_upgrade', '--no-sync', '--retain',
		'-d', $old->data_dir, '-D', $new->data_dir,
		'-b', $bindir, '-B', $bindir,
		'-s', $new->host, '-p', $old->port, '-P', $new->port
	],
	'pg_upgrade succeeds with wallet_ops preloaded');

# The servers pg_upgrade ran (-b, binary-upgrade mode) logged no launcher.
my @logs;
find(sub { push @logs, $File::Find::name if /^pg_upgrade_server.*\.log$/ },
	$new->data_dir . '/pg_upgrade_output.d');
ok(@logs > 0, 'pg_upgrade server logs kept');
my $launched = 0;
for my $log (@logs)
{
	$launched++ if slurp_file($log) =~ /wallet_ops (launcher|worker) started/;
}
is($launched, 0, 'no wallet_ops worker ran during pg_upgrade');

$new->start;
is($new->safe_psql('app', $config), $before, 'the configuration survives pg_upgrade');
$new->safe_psql('app', "UPDATE wallet_ops.partition_config SET premake = 3");
ok( $new->poll_query_until('app',
		"SELECT count(*) FROM pg_inherits WHERE inhparent = 'ev'::regclass", '5'),
	'the upgraded server maintains it');
$new->stop;
done_testing();
