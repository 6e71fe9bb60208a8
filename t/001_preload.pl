# The library loads through shared_preload_libraries and the extension
# installs on a real server.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('preload');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'wallet_ops'\n");
$node->start;

is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'), 'wallet_ops',
	'library is preloaded');
$node->safe_psql('postgres', 'CREATE EXTENSION wallet_ops');
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'wallet_ops'"),
	'1.1.0', 'extension installed');

$node->stop;
done_testing();
