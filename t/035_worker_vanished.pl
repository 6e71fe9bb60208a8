# The worker and configuration rows whose table vanished: a superuser
# disables the event triggers and drops a partitioned table, a managed
# materialised view and a hash-chained table whose verification is
# scheduled, so that their rows stay in wallet_ops' configuration.  The
# running worker records each in job_log and skips it, never crashes, and
# keeps serving the other tables of each kind.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('vanished');
$node->init(extra => ['--encoding=UTF8', '--locale=C']);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'wallet_ops'
wallet_ops.naptime = 1
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION wallet_ops;
CREATE TABLE gone_parts (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE kept_parts (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
SELECT count(*) FROM wallet_ops.manage_partitions('gone_parts', 'month');
SELECT count(*) FROM wallet_ops.manage_partitions('kept_parts', 'month');
CREATE TABLE src (id int PRIMARY KEY);
CREATE MATERIALIZED VIEW gone_mv AS SELECT count(*) AS n FROM src;
CREATE MATERIALIZED VIEW kept_mv AS SELECT count(*) AS n FROM src;
SELECT wallet_ops.manage_matview('gone_mv');
SELECT wallet_ops.manage_matview('kept_mv');
CREATE TABLE gone_chain (entity_id int NOT NULL, payload text);
CREATE TABLE kept_chain (entity_id int NOT NULL, payload text);
SELECT wallet_ops.enable_hash_chain('gone_chain', '{entity_id}');
SELECT wallet_ops.enable_hash_chain('kept_chain', '{entity_id}');
INSERT INTO gone_chain SELECT g % 3, 'x' FROM generate_series(1, 30) g;
INSERT INTO kept_chain SELECT g % 3, 'x' FROM generate_series(1, 30) g;
SELECT wallet_ops.schedule_verification('gone_chain', '1 second');
SELECT wallet_ops.schedule_verification('kept_chain', '1 second');
});

ok($node->poll_query_until('postgres',
		q{SELECT count(*) = 2 FROM wallet_ops.job_log WHERE object LIKE '%_chain' AND outcome = 'ok'}),
	'the worker verifies both chained tables');
my $ticks = $node->safe_psql('postgres', 'SELECT ticks FROM wallet_ops.worker_state');
ok($ticks > 0, 'the pool serves the database');

# The drops a superuser can make behind wallet_ops' back.
sub set_event_triggers
{
	my ($state) = @_;
	return qq{
DO \$\$
DECLARE e record;
BEGIN
    FOR e IN SELECT evtname FROM pg_event_trigger LOOP
        EXECUTE format('ALTER EVENT TRIGGER %I $state', e.evtname);
    END LOOP;
END \$\$;};
}
# the worker pauses meanwhile, so that the test sees the rows it leaves
$node->safe_psql('postgres', q{ALTER SYSTEM SET wallet_ops.enabled = off; SELECT pg_reload_conf();});
sleep(2);	# a tick under way when the reload came ends, the next one sees it
$node->safe_psql('postgres', set_event_triggers('DISABLE') . q{
DROP TABLE gone_parts;
DROP MATERIALIZED VIEW gone_mv;
DROP TABLE gone_chain;
} . set_event_triggers('ENABLE ALWAYS'));
is($node->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM wallet_ops.partition_config c WHERE NOT EXISTS (SELECT FROM pg_class WHERE oid = c.relid))
     + (SELECT count(*) FROM wallet_ops.matviews m WHERE NOT EXISTS (SELECT FROM pg_class WHERE oid = m.mv))
     + (SELECT count(*) FROM wallet_ops.verification_schedule s WHERE NOT EXISTS (SELECT FROM pg_class WHERE oid = s.relid))}),
	'3', 'three configuration rows now name tables that are gone');
my $dropped_at = $node->safe_psql('postgres', 'SELECT now()');
$node->safe_psql('postgres', q{ALTER SYSTEM RESET wallet_ops.enabled; SELECT pg_reload_conf();});

# the other tables of each kind are still served
$node->safe_psql('postgres', q{
SELECT count(*) FROM wallet_ops.unmanage_partitions('kept_parts');
DROP TABLE kept_parts_default;
SELECT count(*) FROM wallet_ops.manage_partitions('kept_parts', 'month');
});
my $future = $node->safe_psql('postgres', q{
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'kept_parts'::regclass AND c.relname <> 'kept_parts_default'
 ORDER BY c.relname DESC LIMIT 1});
$node->safe_psql('postgres', qq{DROP TABLE $future});
ok($node->poll_query_until('postgres', qq{SELECT to_regclass('$future') IS NOT NULL}),
	"the dropped future partition $future of the other partitioned table comes back");
$node->safe_psql('postgres', q{INSERT INTO src SELECT generate_series(1, 5)});
ok($node->poll_query_until('postgres', q{SELECT n = 5 FROM kept_mv}),
	'the other managed view is refreshed after its source changed');
ok($node->poll_query_until('postgres',
		qq{SELECT count(*) > 0 FROM wallet_ops.job_log WHERE object = 'public.kept_chain'
		    AND outcome = 'ok' AND started_at > '$dropped_at'}),
	'the other chained table is still verified on schedule');

# the vanished ones are recorded, not fatal
ok($node->poll_query_until('postgres',
		qq{SELECT string_agg(kind || ' ' || action || ' ' || outcome || ': ' || detail, '; ' ORDER BY kind)
		     FROM wallet_ops.job_log WHERE started_at > '$dropped_at' AND object LIKE '% with OID %'},
		'hash_chain unschedule ok: the table was dropped; matview unmanage ok: the materialized view was dropped; '
		. 'partitions unmanage ok: the table was dropped'),
	'each vanished table is recorded once in job_log, and its configuration removed');
is($node->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM wallet_ops.partition_config c WHERE NOT EXISTS (SELECT FROM pg_class WHERE oid = c.relid))
     + (SELECT count(*) FROM wallet_ops.matviews m WHERE NOT EXISTS (SELECT FROM pg_class WHERE oid = m.mv))
     + (SELECT count(*) FROM wallet_ops.verification_schedule s WHERE NOT EXISTS (SELECT FROM pg_class WHERE oid = s.relid))}),
	'0', 'no configuration row names a vanished table any more');
ok($node->poll_query_until('postgres', "SELECT ticks > $ticks + 2 FROM wallet_ops.worker_state"),
	'the ticks go on');
ok(!$node->log_contains(qr/terminated by signal|exited with exit code [1-9]/),
	'no worker crashed or exited with an error');
is($node->safe_psql('postgres', q{SELECT wallet_ops.health()->>'status' IS NOT NULL}), 't',
	'health() still answers');
ok($node->safe_psql('postgres', q{SELECT wallet_ops.metrics()}) =~ /wallet_ops_/,
	'metrics() still answers');
is($node->safe_psql('postgres', q{SELECT count(*) > 0 FROM wallet_ops.status}), 't',
	'wallet_ops.status still answers');

# a dangling run_maintenance() argument is refused, naming the OID
my ($ret, $out, $err) = $node->psql('postgres',
	q{SELECT * FROM wallet_ops.run_maintenance('999999'::oid::regclass)});
like($err, qr/relation with OID 999999 does not exist/, 'run_maintenance of a dangling OID is refused');

done_testing();
