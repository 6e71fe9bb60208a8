-- ---------------------------------------------------------------------------
-- Hash-chained tables (docs/ledger.md, byte format in docs/hash-format.md).
-- ---------------------------------------------------------------------------
CREATE TABLE wallet_ops.hash_chains (
    relid          pg_catalog.regclass PRIMARY KEY,
    chain_key      pg_catalog.name[] NOT NULL DEFAULT '{}',
    hashed_columns pg_catalog.name[] NOT NULL,
    format_version pg_catalog.int4 NOT NULL DEFAULT 1,
    enabled_at     pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE wallet_ops.hash_chains IS
  'One row per hash-chained table: its chain key columns and hashed columns, fixed when the chain was enabled';

CREATE TABLE wallet_ops.chain_heads (
    relid     pg_catalog.regclass NOT NULL,
    chain_key pg_catalog.text NOT NULL,
    last_seq  pg_catalog.int8 NOT NULL,
    last_hash pg_catalog.bytea NOT NULL,
    PRIMARY KEY (relid, chain_key)
) WITH (fillfactor = 50);  -- room for the HOT updates every commit makes
COMMENT ON TABLE wallet_ops.chain_heads IS
  'The head (last chain_seq and row_hash) of every chain of every hash-chained table, written at commit';

SELECT pg_catalog.pg_extension_config_dump('wallet_ops.hash_chains', '');
SELECT pg_catalog.pg_extension_config_dump('wallet_ops.chain_heads', '');

REVOKE ALL ON wallet_ops.hash_chains FROM PUBLIC;
GRANT SELECT ON wallet_ops.hash_chains TO PUBLIC;
REVOKE ALL ON wallet_ops.chain_heads FROM PUBLIC;

CREATE FUNCTION wallet_ops.enable_hash_chain(tbl pg_catalog.regclass,
                                             chain_key pg_catalog.name[] DEFAULT '{}',
                                             hashed_columns pg_catalog.name[] DEFAULT NULL,
                                             chain_index pg_catalog.bool DEFAULT true)
RETURNS void
LANGUAGE C CALLED ON NULL INPUT
AS 'MODULE_PATHNAME', 'wallet_ops_enable_hash_chain';
COMMENT ON FUNCTION wallet_ops.enable_hash_chain(pg_catalog.regclass, pg_catalog.name[], pg_catalog.name[], pg_catalog.bool) IS
  'Turn a table (plain or partitioned) into a hash-chained one, with the (chain key, chain_seq) index unless chain_index is false; the caller must own it';

CREATE FUNCTION wallet_ops._chain_before_insert()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'wallet_ops_chain_before_insert';
COMMENT ON FUNCTION wallet_ops._chain_before_insert() IS
  'BEFORE INSERT row trigger of hash-chained tables: sets chain_seq, prev_hash and row_hash';
-- Executable by PUBLIC on purpose: PostgreSQL checks EXECUTE, as the role
-- creating a partition, when it clones the trigger to the partition.  The
-- function fires only as trigger zzz_wallet_ops_hash_chain.

CREATE FUNCTION wallet_ops.verify_chain(tbl pg_catalog.regclass,
                                        chain_value pg_catalog.text DEFAULT NULL,
                                        jobs pg_catalog.int4 DEFAULT NULL)
RETURNS TABLE (chain_key pg_catalog.text, chain_seq pg_catalog.int8,
               problem pg_catalog.text, detail pg_catalog.text)
LANGUAGE C CALLED ON NULL INPUT STABLE
AS 'MODULE_PATHNAME', 'wallet_ops_verify_chain';
COMMENT ON FUNCTION wallet_ops.verify_chain(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4) IS
  'Recompute every row hash and link of a hash-chained table (or of one chain), its first pass shared by jobs processes, this one and parallel workers (NULL: wallet_ops.verify_jobs); one row per problem, none when intact';

CREATE FUNCTION wallet_ops.chain_digest(tbl pg_catalog.regclass)
RETURNS pg_catalog.jsonb
LANGUAGE C STRICT STABLE
AS 'MODULE_PATHNAME', 'wallet_ops_chain_digest';
COMMENT ON FUNCTION wallet_ops.chain_digest(pg_catalog.regclass) IS
  'An anchor of a hash-chained table to keep elsewhere: every chain''s head and a Merkle root over them';

CREATE FUNCTION wallet_ops.verify_against_digest(tbl pg_catalog.regclass,
                                                 digest pg_catalog.jsonb)
RETURNS TABLE (chain_key pg_catalog.text, chain_seq pg_catalog.int8,
               problem pg_catalog.text, detail pg_catalog.text)
LANGUAGE C CALLED ON NULL INPUT STABLE
AS 'MODULE_PATHNAME', 'wallet_ops_verify_against_digest';
COMMENT ON FUNCTION wallet_ops.verify_against_digest(pg_catalog.regclass, pg_catalog.jsonb) IS
  'verify_chain, plus every chain that no longer extends what the digest attested';

CREATE FUNCTION wallet_ops.chain_proof(tbl pg_catalog.regclass,
                                       chain_key pg_catalog.text,
                                       digest pg_catalog.jsonb)
RETURNS pg_catalog.jsonb
LANGUAGE C CALLED ON NULL INPUT STABLE
AS 'MODULE_PATHNAME', 'wallet_ops_chain_proof';
COMMENT ON FUNCTION wallet_ops.chain_proof(pg_catalog.regclass, pg_catalog.text, pg_catalog.jsonb) IS
  'The proof that a digest attests one chain: its leaf, the Merkle path to the digest''s root and the digest''s signed fields, checked offline by wallet_ops_verify prove';

-- Citus (docs/citus.md): after shards of a chained distributed table were
-- moved or split, the heads they left on the node they came from
CREATE FUNCTION wallet_ops.recover_shard_heads(tbl pg_catalog.regclass)
RETURNS pg_catalog.int8
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_recover_shard_heads';
COMMENT ON FUNCTION wallet_ops.recover_shard_heads(pg_catalog.regclass) IS
  'Citus: on every shard of a hash-chained distributed table, record the last row of each chain without a recorded head as its head (after a shard move or split); returns how many';

-- A dropped chained table takes its configuration and heads with it (a
-- regclass naming a dropped table would otherwise break pg_dump).
CREATE FUNCTION wallet_ops._chain_sql_drop()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  DELETE FROM wallet_ops.chain_heads h
   USING pg_catalog.pg_event_trigger_dropped_objects() d
   WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
     AND d.objid = h.relid::pg_catalog.oid;
  DELETE FROM wallet_ops.hash_chains c
   USING pg_catalog.pg_event_trigger_dropped_objects() d
   WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
     AND d.objid = c.relid::pg_catalog.oid;
END
$$;
REVOKE ALL ON FUNCTION wallet_ops._chain_sql_drop() FROM PUBLIC;
CREATE EVENT TRIGGER wallet_ops_chain_sql_drop ON sql_drop
  EXECUTE FUNCTION wallet_ops._chain_sql_drop();

-- What running verifications are doing (verify_chain, verify_against_digest
-- report their progress in pg_stat_activity.query).
CREATE VIEW wallet_ops.chain_verify_progress AS
SELECT a.pid,
       a.datname,
       a.usename,
       a.query_start,
       m[1] AS table_name,
       m[2] AS phase,
       (pg_catalog.regexp_match(m[2], 'partition (\d+) of'))[1]::pg_catalog.int4 AS partition,
       (pg_catalog.regexp_match(m[2], 'partition \d+ of (\d+)'))[1]::pg_catalog.int4 AS partitions,
       m[3]::pg_catalog.int8 AS rows_checked
  FROM pg_catalog.pg_stat_activity a,
       LATERAL pg_catalog.regexp_match(a.query,
         '^wallet_ops\.verify_chain\((.*)\): (.*), (\d+) rows checked$') AS m
 WHERE m IS NOT NULL;
COMMENT ON VIEW wallet_ops.chain_verify_progress IS
  'Progress of running hash chain verifications: table, phase, partition, rows checked so far';
