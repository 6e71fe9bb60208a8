# CitusCluster: a coordinator and its workers for the Citus TAP tests
# (t/08*_citus_*.pl, docs/citus.md).
#
#   use FindBin;
#   use lib $FindBin::RealBin;
#   use CitusCluster;
#   my ($coord, @workers) = CitusCluster::start('prefix', 2);
#
# Every node preloads 'citus,wallet_ops' and has both extensions; the
# coordinator knows itself and its workers.  The nodes listen on Unix
# sockets only, so each names its own socket directory to Citus
# (citus.local_hostname).  The whole test is skipped when Citus is not
# installed (scripts/build-citus.sh builds it from a source tarball).
package CitusCluster;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use Test::More;

sub start
{
	my ($prefix, $nworkers) = @_;
	my $coord = PostgreSQL::Test::Cluster->new("${prefix}_coordinator");
	my $pkglibdir = $coord->config_data('--pkglibdir');

	if (!-f "$pkglibdir/citus.so")
	{
		plan skip_all => "Citus is not installed in $pkglibdir "
		  . '(sudo bash scripts/build-citus.sh /path/to/citus-13.2.2.tar.xz PG_CONFIG builds it)';
	}
	my @workers = map { PostgreSQL::Test::Cluster->new("${prefix}_worker$_") } (1 .. $nworkers);
	for my $node ($coord, @workers)
	{
		$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
		$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'citus,wallet_ops'
wallet_ops.naptime = 3600
max_prepared_transactions = 100
citus.node_conninfo = 'sslmode=disable'
citus.local_hostname = '@{[ $node->host ]}'
});
		$node->start;
		$node->safe_psql('postgres', 'CREATE EXTENSION citus; CREATE EXTENSION wallet_ops');
	}
	$coord->safe_psql('postgres',
		sprintf(q{SELECT citus_set_coordinator_host('%s', %d)}, $coord->host, $coord->port));
	$coord->safe_psql('postgres', sprintf(q{SELECT citus_add_node('%s', %d)}, $_->host, $_->port))
	  for @workers;
	return ($coord, @workers);
}

1;
