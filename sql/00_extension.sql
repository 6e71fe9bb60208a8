-- The extension installs into its own schema and reserves its settings.
CREATE EXTENSION wallet_ops;
SELECT extname, extversion, extrelocatable, n.nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'wallet_ops';
-- settings exist with their documented defaults
SELECT name, setting, unit, context FROM pg_settings
 WHERE name LIKE 'wallet\_ops.%' ORDER BY name;
-- the prefix is reserved: a misspelt setting is refused
SET wallet_ops.naptme = 10;
-- cannot be moved to another schema
ALTER EXTENSION wallet_ops SET SCHEMA public;

-- for the tests that follow (sql/hardening_*.sql): the SQLSTATE and message
-- of a statement that fails, or 'ok'
CREATE FUNCTION public.sqlstate_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
