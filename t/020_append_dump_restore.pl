# A protected, partitioned table survives pg_dump -Fc / pg_restore into a
# new database (the dump installs the extension): the restore succeeds and
# the table is protected afterwards, including a partition made after the
# restore.  A schema-only restore protects it too.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('append_dump');
$node->init(extra => ['--encoding=UTF8', '--locale=C']);
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'wallet_ops'\nwallet_ops.naptime = 3600\n");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
CREATE EXTENSION wallet_ops;
CREATE ROLE wallet_ingest;
CREATE TABLE audit_log (
    audit_id    bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at timestamptz NOT NULL,
    actor       text NOT NULL,
    PRIMARY KEY (audit_id, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE TABLE audit_log_2026_q1 PARTITION OF audit_log FOR VALUES FROM ('2026-01-01 UTC') TO ('2026-04-01 UTC');
CREATE TABLE audit_log_2026_q2 PARTITION OF audit_log FOR VALUES FROM ('2026-04-01 UTC') TO ('2026-07-01 UTC');
INSERT INTO audit_log (occurred_at, actor)
SELECT timestamptz '2026-01-01 UTC' + n * interval '1 day', 'ingest' FROM generate_series(0, 99) n;
SELECT wallet_ops.enforce_append_only('audit_log');
SELECT wallet_ops.grant_ingest('audit_log', 'wallet_ingest');
});

my $guards = q{SELECT string_agg(tgrelid::regclass || ':' || tgname || ':' || tgenabled::text, ' '
                                 ORDER BY tgrelid::regclass::text, tgname)
                 FROM pg_trigger WHERE tgname LIKE 'wallet\_ops\_append\_only\_%'};
my $guards_src = $node->safe_psql('src', $guards);
like($guards_src, qr/audit_log_2026_q2:wallet_ops_append_only_stmt:A/, 'source is protected');

my $dump = $node->basedir . '/src.dump';
$node->command_ok(['pg_dump', '-Fc', '-f', $dump, '-d', 'src'], 'pg_dump -Fc');

$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->command_ok(['pg_restore', '--exit-on-error', '-d', 'dst', $dump],
	'pg_restore into a new database succeeds');

is($node->safe_psql('dst', 'SELECT count(*) FROM audit_log'), '100', 'rows restored');
is($node->safe_psql('dst', 'SELECT relid::text FROM wallet_ops.append_only_tables'),
	'audit_log', 'the protected set is restored');
is($node->safe_psql('dst', $guards), $guards_src,
	'the guard triggers are restored, ENABLE ALWAYS, on parent and partitions');

# every refusal after the restore, and the rows are all still there
sub refused
{
	my ($db, $sql, $pattern, $name) = @_;
	my ($ret, $stdout, $stderr) = $node->psql($db, $sql);
	isnt($ret, 0, "$name: refused");
	like($stderr, $pattern, "$name: error message");
}

refused('dst', q{UPDATE audit_log SET actor = 'x'},
	qr/cannot update append-only table "audit_log"/, 'UPDATE after restore');
refused('dst', q{DELETE FROM audit_log_2026_q1},
	qr/cannot delete from append-only table "audit_log_2026_q1"/, 'DELETE partition after restore');
refused('dst', q{TRUNCATE audit_log},
	qr/cannot truncate append-only table "audit_log"/, 'TRUNCATE after restore');
refused('dst', q{SET session_replication_role = replica; DELETE FROM audit_log},
	qr/cannot delete from append-only table "audit_log"/, 'DELETE in replica mode after restore');
refused('dst', q{DROP TABLE audit_log_2026_q2},
	qr/cannot drop partition "audit_log_2026_q2" of append-only table "audit_log"/,
	'DROP partition after restore');
refused('dst', q{DROP TABLE audit_log},
	qr/cannot drop append-only table "audit_log"/, 'DROP TABLE after restore');

# a partition created after the restore
$node->safe_psql('dst', q{
CREATE TABLE audit_log_2026_q3 PARTITION OF audit_log FOR VALUES FROM ('2026-07-01 UTC') TO ('2026-10-01 UTC');
INSERT INTO audit_log (occurred_at, actor) VALUES ('2026-08-01 UTC', 'after');
});
refused('dst', q{DELETE FROM audit_log_2026_q3},
	qr/cannot delete from append-only table "audit_log_2026_q3"/, 'DELETE on a new partition');
refused('dst', q{UPDATE audit_log_2026_q3 SET actor = 'x'},
	qr/cannot update append-only table "audit_log_2026_q3"/, 'UPDATE on a new partition');
refused('dst', q{TRUNCATE audit_log_2026_q3},
	qr/cannot truncate append-only table "audit_log_2026_q3"/, 'TRUNCATE of a new partition');
refused('dst', q{DROP TABLE audit_log_2026_q3},
	qr/cannot drop partition "audit_log_2026_q3"/, 'DROP of a new partition');
is($node->safe_psql('dst',
		q{SELECT has_table_privilege('wallet_ingest', 'audit_log_2026_q3', 'INSERT')}),
	't', 'the ingest grant reaches the new partition');
is($node->safe_psql('dst', 'SELECT count(*) FROM audit_log'), '101', 'no row was lost');

# schema only: the restored row trigger puts the table back into the set
$node->safe_psql('postgres', 'CREATE DATABASE dst_schema');
$node->command_ok(['pg_restore', '--exit-on-error', '--schema-only', '-d', 'dst_schema', $dump],
	'schema-only pg_restore succeeds');
is($node->safe_psql('dst_schema', 'SELECT relid::text FROM wallet_ops.append_only_tables'),
	'audit_log', 'schema-only restore: the table is protected');
refused('dst_schema', q{DROP TABLE audit_log_2026_q1},
	qr/cannot drop partition "audit_log_2026_q1"/, 'schema-only restore: DROP partition');

$node->stop;
done_testing();
