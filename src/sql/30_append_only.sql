
-- ---------------------------------------------------------------------------
-- Append-only tables (docs/append-only.md).
-- ---------------------------------------------------------------------------
CREATE TABLE wallet_ops.append_only_tables (
    relid         pg_catalog.regclass PRIMARY KEY,
    protected_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    protected_by  name NOT NULL DEFAULT CURRENT_USER
);
COMMENT ON TABLE wallet_ops.append_only_tables IS
  'Tables kept append-only by wallet_ops.enforce_append_only(); their partitions, present and future, are protected with them';
SELECT pg_catalog.pg_extension_config_dump('wallet_ops.append_only_tables', '');
REVOKE ALL ON wallet_ops.append_only_tables FROM PUBLIC;
GRANT SELECT ON wallet_ops.append_only_tables TO PUBLIC;

CREATE TABLE wallet_ops.ingest_grants (
    relid       pg_catalog.regclass NOT NULL,
    role_name   name NOT NULL,
    granted_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    granted_by  name NOT NULL DEFAULT CURRENT_USER,
    PRIMARY KEY (relid, role_name)
);
COMMENT ON TABLE wallet_ops.ingest_grants IS
  'Roles given INSERT by wallet_ops.grant_ingest(); partitions made later get the same grants';
SELECT pg_catalog.pg_extension_config_dump('wallet_ops.ingest_grants', '');
REVOKE ALL ON wallet_ops.ingest_grants FROM PUBLIC;
GRANT SELECT ON wallet_ops.ingest_grants TO PUBLIC;

CREATE FUNCTION wallet_ops.append_only_guard()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'wallet_ops_append_only_guard';
COMMENT ON FUNCTION wallet_ops.append_only_guard() IS
  'Trigger of append-only tables: refuses UPDATE, DELETE and TRUNCATE';
-- Executable by PUBLIC on purpose, as wallet_ops._chain_before_insert(): the
-- row trigger is cloned to every new partition.  It fires only as the two
-- wallet_ops_append_only_* triggers.

CREATE FUNCTION wallet_ops.enforce_append_only(tbl pg_catalog.regclass)
RETURNS void
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'wallet_ops_enforce_append_only';
COMMENT ON FUNCTION wallet_ops.enforce_append_only(pg_catalog.regclass) IS
  'Makes a table and its partitions, present and future, append-only (table owner)';

CREATE FUNCTION wallet_ops.release_append_only(tbl pg_catalog.regclass)
RETURNS void
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'wallet_ops_release_append_only';
COMMENT ON FUNCTION wallet_ops.release_append_only(pg_catalog.regclass) IS
  'Removes the append-only protection of a table (superuser; logged at WARNING)';
REVOKE ALL ON FUNCTION wallet_ops.release_append_only(pg_catalog.regclass) FROM PUBLIC;

CREATE FUNCTION wallet_ops.grant_ingest(tbl pg_catalog.regclass, role name)
RETURNS void
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'wallet_ops_grant_ingest';
COMMENT ON FUNCTION wallet_ops.grant_ingest(pg_catalog.regclass, name) IS
  'Lets a role INSERT into a table and its partitions, present and future (and use their sequences), and nothing else on existing rows (table owner)';

CREATE FUNCTION wallet_ops.revoke_ingest(tbl pg_catalog.regclass, role name)
RETURNS void
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'wallet_ops_revoke_ingest';
COMMENT ON FUNCTION wallet_ops.revoke_ingest(pg_catalog.regclass, name) IS
  'Undoes wallet_ops.grant_ingest() (table owner)';

CREATE FUNCTION wallet_ops.append_only_ddl_start()
RETURNS event_trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'wallet_ops_append_only_ddl_start';

CREATE FUNCTION wallet_ops.append_only_ddl_end()
RETURNS event_trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'wallet_ops_append_only_ddl_end';

CREATE FUNCTION wallet_ops.append_only_sql_drop()
RETURNS event_trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'wallet_ops_append_only_sql_drop';

REVOKE ALL ON FUNCTION wallet_ops.append_only_ddl_start() FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet_ops.append_only_ddl_end() FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet_ops.append_only_sql_drop() FROM PUBLIC;

-- ENABLE ALWAYS: session_replication_role = replica does not skip them.
CREATE EVENT TRIGGER wallet_ops_append_only_ddl_start ON ddl_command_start
  WHEN TAG IN ('ALTER TABLE', 'ALTER FOREIGN TABLE', 'ALTER TRIGGER', 'ALTER TYPE',
               'CREATE FOREIGN TABLE', 'CREATE RULE', 'CREATE TABLE',
               'CREATE TRIGGER', 'DROP EXTENSION', 'DROP FOREIGN TABLE',
               'DROP SCHEMA', 'DROP TABLE', 'DROP TRIGGER')
  EXECUTE FUNCTION wallet_ops.append_only_ddl_start();
ALTER EVENT TRIGGER wallet_ops_append_only_ddl_start ENABLE ALWAYS;

CREATE EVENT TRIGGER wallet_ops_append_only_ddl_end ON ddl_command_end
  WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE', 'CREATE TRIGGER')
  EXECUTE FUNCTION wallet_ops.append_only_ddl_end();
ALTER EVENT TRIGGER wallet_ops_append_only_ddl_end ENABLE ALWAYS;

CREATE EVENT TRIGGER wallet_ops_append_only_sql_drop ON sql_drop
  EXECUTE FUNCTION wallet_ops.append_only_sql_drop();
ALTER EVENT TRIGGER wallet_ops_append_only_sql_drop ENABLE ALWAYS;
