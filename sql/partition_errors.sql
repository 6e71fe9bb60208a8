-- Bad input to manage_partitions(): a clear error with its own SQLSTATE,
-- and nothing half made.
CREATE SCHEMA part_err;
SET search_path = part_err, public;
SET client_min_messages = warning;
SET TimeZone = 'UTC';

CREATE FUNCTION try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

CREATE TABLE plain (at timestamptz);
CREATE TABLE by_list (at timestamptz NOT NULL) PARTITION BY LIST (at);
CREATE TABLE by_two (at timestamptz NOT NULL, b int NOT NULL) PARTITION BY RANGE (at, b);
CREATE TABLE by_expr (at timestamp NOT NULL) PARTITION BY RANGE ((at::date));
CREATE TABLE by_int (id bigint NOT NULL) PARTITION BY RANGE (id);
CREATE TABLE good (at timestamptz NOT NULL) PARTITION BY RANGE (at);

SELECT try($$SELECT wallet_ops.manage_partitions('plain', 'month')$$);
SELECT try($$SELECT wallet_ops.manage_partitions('by_list', 'month')$$);
SELECT try($$SELECT wallet_ops.manage_partitions('by_two', 'month')$$);
SELECT try($$SELECT wallet_ops.manage_partitions('by_expr', 'month')$$);
SELECT try($$SELECT wallet_ops.manage_partitions('by_int', 'month')$$);
SELECT try($$SELECT wallet_ops.manage_partitions('good', 'fortnight')$$);
SELECT try($$SELECT wallet_ops.manage_partitions('good', 'month', 0)$$);
SELECT try($$SELECT wallet_ops.manage_partitions('good', 'month', 3, '-1 day')$$);
SELECT try($$SELECT wallet_ops.manage_partitions('good', 'month', 3, NULL, 'Mars/Olympus_Mons')$$);
SELECT try($$SELECT wallet_ops.manage_partitions(NULL, 'month')$$);
SELECT try($$SELECT wallet_ops.manage_partitions('no_such_table', 'month')$$);
SELECT try($$SELECT wallet_ops.unmanage_partitions('good')$$);
SELECT try($$SELECT * FROM wallet_ops.run_maintenance('good')$$);

-- A table name too long for the partition names.
CREATE TABLE a_table_name_that_is_long_enough_to_overflow_partition_names (at date NOT NULL)
    PARTITION BY RANGE (at);
SELECT try($$SELECT wallet_ops._manage_partitions_at('a_table_name_that_is_long_enough_to_overflow_partition_names', 'day', 1, NULL, 'UTC', false, '2026-05-05')$$);

-- Already managed.
SELECT count(*) FROM wallet_ops._manage_partitions_at('good', 'month', 1, NULL, 'UTC', false, '2026-05-05');
SELECT try($$SELECT wallet_ops.manage_partitions('good', 'month')$$);

-- An existing partition overlapping a planned one with other bounds: an
-- error, and neither the default partition nor any other is made.
CREATE TABLE odd (at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE odd_mid PARTITION OF odd FOR VALUES FROM ('2026-05-15') TO ('2026-06-15');
SELECT try($$SELECT * FROM wallet_ops._manage_partitions_at('odd', 'month', 3, NULL, 'UTC', false, '2026-05-05')$$);
SELECT relname FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
 WHERE i.inhparent = 'odd'::regclass ORDER BY 1;
SELECT count(*) FROM wallet_ops.partition_config WHERE relid = 'odd'::regclass;

-- The seed's partitions are in UTC: managing them in another zone conflicts.
CREATE TABLE seedlike (at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE seedlike_2026_05 PARTITION OF seedlike FOR VALUES FROM ('2026-05-01 00:00+00') TO ('2026-06-01 00:00+00');
SELECT try($$SELECT * FROM wallet_ops._manage_partitions_at('seedlike', 'month', 1, NULL, 'Europe/Berlin', false, '2026-05-05')$$);
SELECT count(*) FROM pg_inherits WHERE inhparent = 'seedlike'::regclass;

-- A name taken by another table.
CREATE TABLE taken (at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE taken_2026_06 (x int);
SELECT try($$SELECT * FROM wallet_ops._manage_partitions_at('taken', 'month', 1, NULL, 'UTC', false, '2026-05-05')$$);
SELECT count(*) FROM pg_inherits WHERE inhparent = 'taken'::regclass;
SELECT count(*) FROM wallet_ops.partition_config WHERE relid = 'taken'::regclass;

-- Only the owner may manage a table.
CREATE ROLE part_err_user;
GRANT USAGE ON SCHEMA part_err, wallet_ops TO part_err_user;
GRANT EXECUTE ON FUNCTION wallet_ops.manage_partitions(regclass, text, integer, interval, text, boolean) TO part_err_user;
SET ROLE part_err_user;
SELECT try($$SELECT wallet_ops.manage_partitions('seedlike', 'month')$$);
RESET ROLE;
REVOKE ALL ON FUNCTION wallet_ops.manage_partitions(regclass, text, integer, interval, text, boolean) FROM part_err_user;
REVOKE ALL ON SCHEMA part_err, wallet_ops FROM part_err_user;
DROP ROLE part_err_user;

DROP SCHEMA part_err CASCADE;
SELECT count(*) FROM wallet_ops.partition_config;
