
-- ---------------------------------------------------------------------------
-- Time arithmetic that does not fail: NULL where PostgreSQL would raise
-- 22008 (timestamp out of range, infinite timestamps) or 22015 (interval
-- out of range).  status, health(), metrics() and the worker compute with
-- these, so that one object with an extreme interval or time loses its own
-- figures (NULL, and a warning in health()) instead of failing the whole
-- answer for everyone.
-- ---------------------------------------------------------------------------
CREATE FUNCTION wallet_ops._time_plus(t timestamptz, i interval, times integer DEFAULT 1)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN t + times * i;
EXCEPTION WHEN datetime_field_overflow OR interval_field_overflow THEN
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION wallet_ops._time_plus(timestamptz, interval, integer) FROM PUBLIC;

CREATE FUNCTION wallet_ops._time_minus(a timestamptz, b timestamptz)
RETURNS interval
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN a - b;
EXCEPTION WHEN datetime_field_overflow OR interval_field_overflow THEN
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION wallet_ops._time_minus(timestamptz, timestamptz) FROM PUBLIC;
