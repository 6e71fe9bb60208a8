# A crash while transactions hold and create chain heads.  The heads of new
# chains are inserted speculatively into wallet_ops.chain_heads by the
# trigger itself (src/chain_heads.c), not through SQL: after crash recovery
# the uncommitted ones must be gone, the committed ones untouched,
# verify_chain clean, and both the old and the would-be new chains must go
# on from where the committed rows left them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('chain_crash');
$node->init(extra => ['--encoding=UTF8', '--locale=C']);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'wallet_ops'\nwallet_ops.naptime = 3600\n");
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION wallet_ops;
CREATE TABLE ledger (acct int NOT NULL, v int);
SELECT wallet_ops.enable_hash_chain('ledger', '{acct}');
INSERT INTO ledger VALUES (1, 1), (1, 2), (2, 1);
});
my $heads_sql = q{SELECT string_agg(chain_key || '=' || last_seq, ',' ORDER BY chain_key) FROM wallet_ops.chain_heads};
is($node->safe_psql('postgres', $heads_sql), '1=2,2=1', 'heads before the crash');

# one transaction locks chain 1 and creates chains 10, 11 and 12 ...
my $writer = $node->background_psql('postgres');
$writer->query_safe(q{BEGIN; INSERT INTO ledger SELECT 10 + n % 3, n FROM generate_series(1, 30) n; INSERT INTO ledger VALUES (1, 3);});
# ... while another waits to extend chain 10, which the first is creating
my $waiter = $node->background_psql('postgres', on_error_stop => 0);
$waiter->query_until(qr/started/, q{\echo started
INSERT INTO ledger VALUES (10, 99);
});
$node->poll_query_until('postgres',
	q{SELECT count(*) > 0 FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'})
  or die 'the second writer did not wait for the creator of chain 10';
is($node->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.chain_heads h WHERE h.chain_key IN ('10', '11', '12')}),
	'0', 'heads being created are not visible to others');

$node->stop('immediate');
eval { $writer->quit };
eval { $waiter->quit };
$node->start;

is($node->safe_psql('postgres', $heads_sql), '1=2,2=1', 'after recovery the uncommitted heads are gone and chain 1 has not moved');
is($node->safe_psql('postgres', q{SELECT count(*) FROM ledger WHERE acct >= 10 OR v = 3}), '0', 'no uncommitted row survived');
is($node->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('ledger')}), '0', 'verify_chain is clean after recovery');

$node->safe_psql('postgres', q{INSERT INTO ledger VALUES (10, 1), (1, 3), (10, 2)});
is($node->safe_psql('postgres', q{SELECT string_agg(acct || ':' || chain_seq || ':' || v, ',' ORDER BY acct, chain_seq) FROM ledger}),
	'1:1:1,1:2:2,1:3:3,2:1:1,10:1:1,10:2:2', 'both chains go on from their committed rows');
is($node->safe_psql('postgres', $heads_sql), '1=3,10=2,2=1', 'heads follow');
is($node->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('ledger')}), '0', 'verify_chain is clean');
$node->stop;
done_testing();
