# Two-phase commit: the chain heads are written when the transaction is
# prepared, so COMMIT PREPARED (from another session) publishes them with
# the rows, ROLLBACK PREPARED gives the numbers back, and a writer of the
# same chain waits for the prepared transaction's outcome.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('chain_2pc');
$node->init(extra => ['--encoding=UTF8', '--locale=C']);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'wallet_ops'\nwallet_ops.naptime = 3600\nmax_prepared_transactions = 4\n");
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION wallet_ops;
CREATE TABLE ledger (acct int NOT NULL, v int);
SELECT wallet_ops.enable_hash_chain('ledger', '{acct}');
INSERT INTO ledger VALUES (1, 1);
});
$node->safe_psql('postgres', q{BEGIN; INSERT INTO ledger VALUES (1, 2), (2, 1); PREPARE TRANSACTION 'p1';});
is($node->safe_psql('postgres', q{SELECT string_agg(chain_key || '=' || last_seq, ',' ORDER BY chain_key) FROM wallet_ops.chain_heads}),
	'1=1', 'heads of a prepared transaction are not visible yet');
# a writer of chain 1 waits for the prepared transaction
my $bg = $node->background_psql('postgres');
$bg->query_until(qr/started/, q{\echo started
INSERT INTO ledger VALUES (1, 3);
});
$node->poll_query_until('postgres',
	q{SELECT count(*) > 0 FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'})
  or die 'the second writer did not wait';
$node->safe_psql('postgres', q{COMMIT PREPARED 'p1'});
$bg->quit;
is($node->safe_psql('postgres', q{SELECT string_agg(acct || ':' || chain_seq || ':' || v, ',' ORDER BY acct, chain_seq) FROM ledger}),
	'1:1:1,1:2:2,1:3:3,2:1:1', 'the waiting writer continued after the prepared rows');
$node->safe_psql('postgres', q{BEGIN; INSERT INTO ledger VALUES (1, 4), (3, 1); PREPARE TRANSACTION 'p2';});
$node->safe_psql('postgres', q{ROLLBACK PREPARED 'p2'});
$node->safe_psql('postgres', q{INSERT INTO ledger VALUES (1, 5), (3, 2)});
is($node->safe_psql('postgres', q{SELECT string_agg(acct || ':' || chain_seq || ':' || v, ',' ORDER BY acct, chain_seq) FROM ledger WHERE v IN (4, 5) OR acct = 3}),
	'1:4:5,3:1:2', 'ROLLBACK PREPARED gave the numbers back');
is($node->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('ledger')}), '0', 'chains verify clean');
is($node->safe_psql('postgres', q{SELECT string_agg(chain_key || '=' || last_seq, ',' ORDER BY chain_key) FROM wallet_ops.chain_heads}),
	'1=4,2=1,3=1', 'heads follow');
$node->stop;
done_testing();
