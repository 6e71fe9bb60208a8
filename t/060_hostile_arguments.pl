# Hostile arguments: every SQL function of the extension, found in pg_proc
# (so a function added later is covered without touching this file), is
# called with every value class of each of its argument types in turn, the
# other arguments held at sane values, as four roles: a superuser, the
# fixtures' owner (not a superuser), an ingest role holding INSERT only,
# and a role with no grants at all.  Each call runs in its own transaction
# and is rolled back, so every call sees the same fixtures.
#
# It fails on
#   - a crash (the server restarting, or a backend killed by a signal),
#   - an internal error (SQLSTATE XX000) or a call that runs past the
#     statement timeout,
#   - a call naming a relation that does not exist (OID 0 or a dangling
#     OID) that is not refused with 42P01 (or 42501 when the role may not
#     execute the function at all),
#   - a call by the ingest role or the role with no grants that is accepted
#     while it names a relation that role does not own,
#   - an argument type without value classes below: a new type needs one
#     line in %classes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('hostile');
$node->init(extra => ['--encoding=UTF8', '--locale=C']);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'wallet_ops'
wallet_ops.naptime = 3600
restart_after_crash = on
log_min_messages = warning
});
$node->start;

# The fixtures: one relation of every kind a caller could name.
$node->safe_psql('postgres', q{
CREATE EXTENSION wallet_ops;
CREATE ROLE hx_owner LOGIN;
CREATE ROLE hx_ingest LOGIN;
CREATE ROLE hx_nobody LOGIN;
CREATE SCHEMA hx AUTHORIZATION hx_owner;
GRANT USAGE ON SCHEMA hx TO PUBLIC;
SET ROLE hx_owner;
CREATE TABLE hx.plain (id bigint GENERATED ALWAYS AS IDENTITY, note text);
INSERT INTO hx.plain (note) SELECT 'n' || g FROM generate_series(1, 5) g;
CREATE TABLE hx.chained (
    id bigint GENERATED ALWAYS AS IDENTITY,
    entity_id int NOT NULL,
    payload jsonb NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT '2026-01-15');
INSERT INTO hx.chained (entity_id, payload) SELECT g % 3, jsonb_build_object('g', g) FROM generate_series(1, 30) g;
CREATE TABLE hx.parted (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE hx.parted_2026_01 PARTITION OF hx.parted FOR VALUES FROM ('2026-01-01 00:00+00') TO ('2026-02-01 00:00+00');
CREATE TABLE hx.appended (id bigint, at timestamptz NOT NULL DEFAULT now());
CREATE VIEW hx.v AS SELECT id, note FROM hx.plain;
CREATE MATERIALIZED VIEW hx.mv AS SELECT id, note FROM hx.plain;
CREATE UNIQUE INDEX mv_id ON hx.mv (id);
CREATE SEQUENCE hx.seq;
CREATE TYPE hx.comp AS (a int, b text);
CREATE INDEX plain_note ON hx.plain (note);
RESET ROLE;
SET ROLE hx_owner;
SELECT wallet_ops.enable_hash_chain('hx.chained', '{entity_id}');
SELECT wallet_ops.enforce_append_only('hx.appended');
SELECT wallet_ops.manage_matview('hx.mv');
SELECT wallet_ops.schedule_verification('hx.chained', '1 day');
RESET ROLE;
SELECT wallet_ops.grant_ingest('hx.appended', 'hx_ingest');
SELECT * FROM wallet_ops.manage_partitions('hx.parted', 'month');
CREATE TABLE hx.dropped (id int);
});
my $dangling = $node->safe_psql('postgres',
	q{SELECT 'hx.dropped'::regclass::oid; DROP TABLE hx.dropped;});
my $digest = $node->safe_psql('postgres', q{SELECT wallet_ops.chain_digest('hx.chained')});
(my $digest_sql = $digest) =~ s/'/''/g;

# Value classes, one line each: [label, SQL literal or NULL].  An argument
# holds its sane value (%sane, by argument name, else by type) while
# another one is varied.
my $kb100 = 'x' x 100_000;
my %classes = (
	regclass => [
		[ null      => 'NULL' ],
		[ zero      => "'0'" ],
		[ dangling  => "'$dangling'" ],
		[ catalog   => "'pg_catalog.pg_class'" ],
		[ toast     => "(SELECT reltoastrelid::regclass::text FROM pg_class WHERE oid = 'pg_catalog.pg_proc'::regclass)" ],
		[ own_table => "'wallet_ops.job_log'" ],
		[ own_heads => "'wallet_ops.chain_heads'" ],
		[ own_view  => "'wallet_ops.status'" ],
		[ view      => "'hx.v'" ],
		[ matview   => "'hx.mv'" ],
		[ sequence  => "'hx.seq'" ],
		[ index     => "'hx.plain_note'" ],
		[ composite => "'hx.comp'" ],
		[ plain     => "'hx.plain'" ],
		[ chained   => "'hx.chained'" ],
		[ appended  => "'hx.appended'" ],
		[ parted    => "'hx.parted'" ],
		[ partition => "'hx.parted_2026_01'" ],
	],
	text => [
		[ null     => 'NULL' ],
		[ empty    => "''" ],
		[ big      => "'$kb100'" ],
		[ control  => "E'\\x01\\x1b[2J\\t\\n\\r\\x7f'" ],
		[ quote    => "'x''; DROP TABLE hx.plain; --'" ],
		[ zone     => "'Mars/Olympus_Mons'" ],
		[ period   => "'fortnight'" ],
	],
	name => [
		[ null      => 'NULL' ],
		[ empty     => "''" ],
		[ unknown   => "'no_such_role_or_column'" ],
		[ public    => "'public'" ],
		[ superuser => "'postgres'" ],
		[ monitor   => "'pg_monitor'" ],
		[ long      => "'" . ('n' x 200) . "'" ],
		[ control   => "E'\\x01\\n'" ],
	],
	'name[]' => [
		[ null     => 'NULL' ],
		[ empty    => "'{}'" ],
		[ unknown  => "'{no_such_column}'" ],
		[ nullelem => "'{NULL}'" ],
		[ system   => "'{ctid}'" ],
		[ chaincol => "'{chain_seq,row_hash}'" ],
		[ dup      => "'{entity_id,entity_id}'" ],
		[ many     => "(SELECT array_agg('c' || g)::name[] FROM generate_series(1, 5000) g)" ],
		[ twodim   => "'{{entity_id},{payload}}'" ],
	],
	interval => [
		[ null      => 'NULL' ],
		[ zero      => "'0'" ],
		[ negative  => "'-1 day'" ],
		[ tiny      => "'1 microsecond'" ],
		[ huge      => "'250000 years'" ],
		[ max       => "'178000000 years'" ],
		[ mixed     => "'1 mon -30 days'" ],
		[ infinity  => "'infinity'" ],
		[ ninfinity => "'-infinity'" ],
	],
	timestamptz => [
		[ null      => 'NULL' ],
		[ infinity  => "'infinity'" ],
		[ ninfinity => "'-infinity'" ],
		[ max       => "'294276-12-31 23:59:59+00'" ],
		[ min       => "'4713-01-01 00:00:00+00 BC'" ],
		[ epoch     => "'1970-01-01 00:00+00'" ],
		[ past_y2k  => "'1999-12-31 23:59:59.999999+00'" ],
	],
	integer => [
		[ null     => 'NULL' ],
		[ zero     => '0' ],
		[ negative => '-1' ],
		[ max      => '2147483647' ],
		[ min      => '-2147483648' ],
		[ big      => '100000' ],
	],
	boolean => [ [ null => 'NULL' ], [ true => 'true' ], [ false => 'false' ] ],
	jsonb => [
		[ null        => 'NULL' ],
		[ object      => "'{}'" ],
		[ array       => "'[]'" ],
		[ scalar      => "'\"wallet_ops.digest.v1\"'" ],
		[ jnull       => "'null'" ],
		[ format_only => q{'{"format": "wallet_ops.digest.v1"}'} ],
		[ chains_scalar => q{'{"format": "wallet_ops.digest.v1", "chains": "x"}'} ],
		[ chains_bad  => q{'{"format": "wallet_ops.digest.v1", "chains": [{"chain": 1, "last_seq": "x", "head": "zz"}]}'} ],
		[ seq_huge    => q{'{"format": "wallet_ops.digest.v1", "chains": [{"chain": "1", "last_seq": 1e400, "head": "00"}]}'} ],
		[ head_bad    => "(regexp_replace('$digest_sql', '\"head\": \"[0-9a-f]{8}', '\"head\": \"zzzzzzzz', 'g'))::jsonb" ],
		[ deep        => "(repeat('[', 5000) || repeat(']', 5000))::jsonb" ],
		[ big         => "jsonb_build_object('format', 'wallet_ops.digest.v1', 'x', '$kb100')" ],
	],
	regtype => [
		[ null    => 'NULL' ],
		[ zero    => "'0'" ],
		[ dangle  => "'999999'" ],
		[ int     => "'integer'" ],
		[ jsonb   => "'jsonb'" ],
		[ comp    => "'hx.comp'" ],
	],
	xid8 => [
		[ null => 'NULL' ], [ zero => "'0'" ], [ max => "'18446744073709551615'" ],
		[ future => "'4000000000'" ],
	],
	pg_snapshot => [
		[ null => 'NULL' ], [ empty => "'3:3:'" ], [ wide => "'3:4000000000:'" ],
		[ future => "'4000000000:4000000001:'" ],
	],
);

# The sane value of an argument, by its name and then by its type.
my %sane_by_name = (
	period      => "'month'",
	time_zone   => "'UTC'",
	tz          => "'UTC'",
	lit         => "'2026-01-01 00:00:00+00'",
	chain_value => "'1'",
	chain_key   => "'{entity_id}'",
	time_column => "'changed_at'",
	role        => "'hx_ingest'",
	every       => "'1 day'",
	full_every  => "'7 days'",
	digest      => "'$digest_sql'",
);
my %sane_by_type = (
	regclass => "'hx.chained'", text => "'x'", name => "'x'", 'name[]' => 'NULL',
	interval => "'1 day'", timestamptz => "'2026-06-01 00:00+00'", integer => '3',
	boolean => 'true', jsonb => "'{}'", regtype => "'timestamptz'",
	xid8 => "'3'", pg_snapshot => "'3:3:'",
);
# The kind of table a function is about, so that the other arguments reach
# past the first check.
sub sane_table
{
	my ($fn) = @_;
	return "'hx.mv'" if $fn =~ /matview/;
	return "'hx.parted'" if $fn =~ /partition|maintenance/;
	return "'hx.appended'" if $fn =~ /append_only|ingest/;
	return "'hx.chained'";
}

# Every function of the extension.
my @functions;
for my $line (split /\n/, $node->safe_psql('postgres', q{
	SELECT p.proname || '|' || p.proretset || '|' || p.proisstrict || '|' || p.prorettype::regtype || '|'
	       || coalesce(array_to_string(array(SELECT format_type(t, NULL)
	             FROM unnest(p.proargtypes) WITH ORDINALITY u(t, n) ORDER BY n), ','), '') || '|'
	       || coalesce(array_to_string(p.proargnames[1:p.pronargs], ','), '')
	  FROM pg_proc p WHERE p.pronamespace = 'wallet_ops'::regnamespace ORDER BY p.oid::regprocedure::text}))
{
	my ($name, $retset, $strict, $rettype, $types, $names) = split /\|/, $line, -1;
	my @types = map { my $t = $_; $t =~ s/^timestamp with time zone$/timestamptz/; $t }
	  grep { $_ ne '' } split /,/, $types;
	my @names = split /,/, $names;
	push @functions, { name => $name, types => \@types, names => \@names, strict => ($strict eq 'true'),
		from => ($retset eq 'true' || $rettype eq 'record') };
}
ok(@functions >= 40, scalar(@functions) . ' functions found in schema wallet_ops');

my @uncovered = grep { !$classes{$_} } map { @{ $_->{types} } } @functions;
is_deeply(\@uncovered, [], 'every argument type has value classes') or
  diag('add a line to %classes for: ' . join(', ', @uncovered));

# The calls: for each function, every class of each argument in turn, and
# once with every argument NULL.
my @calls;
for my $f (@functions)
{
	my @types = @{ $f->{types} };
	my @sane = map {
		my $t = $types[$_];
		my $n = $f->{names}[$_] // '';
		my $v = $t eq 'regclass' ? sane_table($f->{name}) : ($sane_by_name{$n} // $sane_by_type{$t});
		"(${v})::$t"
	} 0 .. $#types;
	my $render = sub {
		my $args = join(', ', @_);
		return $f->{from} ? "SELECT count(*) FROM wallet_ops.$f->{name}($args)"
		  : "SELECT wallet_ops.$f->{name}($args) IS NULL";
	};
	if (!@types)
	{
		push @calls, { fn => $f->{name}, class => '()', sql => $render->() };
		next;
	}
	for my $i (0 .. $#types)
	{
		for my $c (@{ $classes{ $types[$i] } // [] })
		{
			my @args = @sane;
			$args[$i] = "($c->[1])::$types[$i]";
			push @calls, {
				fn => $f->{name}, class => "$types[$i]:$c->[0]\@" . ($i + 1),
				sql => $render->(@args), regclass => ($types[$i] eq 'regclass' ? $c->[0] : undef),
				returns_null => ($f->{strict} && $c->[1] eq 'NULL'),
				objects => [ grep { defined } map { $types[$_] eq 'regclass' ? ($_ == $i ? $c->[0] : 'sane') : undef } 0 .. $#types ],
			};
		}
	}
	push @calls, { fn => $f->{name}, class => 'all NULL', returns_null => $f->{strict},
		sql => $render->(map { "NULL::$_" } @types) };
}

# Functions that answer for anything, by design: catalog readers and
# monitoring helpers that views call on every configuration row, including
# rows whose relation was dropped behind the event triggers' back.  They
# build no name and take no lock, and must keep the views answering.
my %lenient = (
	matview_sources    => 'reads the catalog only, as \\d+ does; NULL for what is not a view',
	_matview_next_mode => 'reads the catalog only; NULL for what is not a materialised view',
	_partition_figures => 'figures of wallet_ops.status: NULL for a table that is gone',
	_matviews_due      => 'a filter over the configuration: no rows for what is not managed',
);

# Relations each role owns (only hx_owner owns any of the fixtures).
my $superuser = $node->safe_psql('postgres', 'SELECT current_user');
my %owns = ($superuser => 1, hx_owner => 1, hx_ingest => 0, hx_nobody => 0);
my %can_execute;
for my $role (keys %owns)
{
	for my $line (split /\n/, $node->safe_psql('postgres', qq{
		SELECT p.proname || '|' || has_function_privilege('$role', p.oid, 'EXECUTE')
		  FROM pg_proc p WHERE p.pronamespace = 'wallet_ops'::regnamespace}))
	{
		my ($fn, $ok) = split /\|/, $line;
		$can_execute{$role}{$fn} = ($ok eq 't');
	}
}

my $log_offset = -s $node->logfile;
my (%outcomes, @failures, $ncalls);
my $crashes = 0;

# Runs calls[$from..] as $role in one psql; returns the index of the first
# call not run (after a lost connection) or scalar(@calls).
sub run_from
{
	my ($role, $from, $results) = @_;
	my $script = "\\o /dev/null\nSET client_min_messages = error;\nSET statement_timeout = '60s';\n";
	$script .= "BEGIN;\n$calls[$_]{sql};\n\\echo \@\@ $_ :SQLSTATE\nROLLBACK;\n" for $from .. $#calls;
	my $file = "$PostgreSQL::Test::Utils::tmp_check/hostile_$role.sql";
	open(my $fh, '>', $file) or die "could not write $file: $!";
	print $fh $script;
	close($fh);
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'psql', '-X', '-q', '-d', $node->connstr('postgres') . " user=$role", '-f', $file ],
		'>', \$out, '2>', \$err, IPC::Run::timeout(1800));
	my $next = $from;
	while ($out =~ /^\@\@ (\d+) (\S+)$/mg)
	{
		$results->{$1} = $2;
		$next = $1 + 1;
	}
	return $next;
}

for my $role ($superuser, qw(hx_owner hx_ingest hx_nobody))
{
	my %results;
	my $next = 0;
	while ($next < @calls)
	{
		$next = run_from($role, $next, \%results);
		last if $next >= @calls;
		# the connection was lost in call $next
		$crashes++;
		$results{$next} = 'CRASH';
		push @failures, "$role: $calls[$next]{fn} ($calls[$next]{class}) lost the connection: $calls[$next]{sql}";
		$node->poll_query_until('postgres', 'SELECT true') or BAIL_OUT('server did not come back');
		$next++;
	}
	for my $i (0 .. $#calls)
	{
		my $c = $calls[$i];
		my $state = $results{$i} // 'none';
		$ncalls++;
		$outcomes{$c->{fn}}{ $state eq '00000' ? 'accepted' : 'refused' }++;
		$outcomes{total}{$state}++;
		my $what = "$role: $c->{fn} ($c->{class}): $state: " . substr($c->{sql}, 0, 300);
		push @failures, "internal error $what" if $state eq 'XX000';
		push @failures, "ran past the statement timeout $what" if $state eq '57014';
		push @failures, "no outcome $what" if $state eq 'none';
		next if $lenient{ $c->{fn} } || $c->{returns_null};
		my $refusal_ok = $state eq '42P01' || (!$can_execute{$role}{ $c->{fn} } && $state eq '42501');
		push @failures, "missing relation not refused with 42P01 $what"
		  if defined $c->{regclass} && $c->{regclass} =~ /^(zero|dangling)$/ && !$refusal_ok;
		push @failures, "accepted for a role that owns nothing $what"
		  if !$owns{$role} && $state eq '00000'
		  && grep { $_ ne 'null' } @{ $c->{objects} // [] };
	}
}

is($crashes, 0, 'no call lost its connection');
ok(!$node->log_contains(qr/terminated by signal|PANIC|TRAP:|reinitializing/, $log_offset),
	'no backend was terminated by a signal, and the server never reinitialized');
is(scalar(@failures), 0, 'every hostile call was refused properly or accepted rightly')
  or diag(join("\n", @failures));

my %by_state = %{ $outcomes{total} };
note("$ncalls calls over " . scalar(@functions) . " functions and 4 roles: "
	  . join(', ', map { "$_ $by_state{$_}" } sort keys %by_state));

# The fixtures are as they were: every call was rolled back or refused.
is($node->safe_psql('postgres', q{SELECT count(*) FROM wallet_ops.verify_chain('hx.chained')}),
	'0', 'the chained fixture still verifies');
is($node->safe_psql('postgres', q{SELECT count(*) FROM hx.plain}), '5', 'hx.plain still has its rows');

done_testing();
