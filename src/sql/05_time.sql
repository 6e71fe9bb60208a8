
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

-- ---------------------------------------------------------------------------
-- An interval in the words a person reads: its largest unit and, when not
-- zero, the next one ("3 days 4 hours", "2 hours", "5 minutes 3 seconds",
-- "1 month").  Hours beyond a day are counted as days, days are never
-- counted as months (a month has no fixed length), and fractions of a
-- second are dropped.  For the details of health(), wallet_ops.status and
-- wallet_ops.health_checks.
-- ---------------------------------------------------------------------------
CREATE FUNCTION wallet_ops._interval_words(i interval)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j interval;
    units text[] := ARRAY['year', 'month', 'day', 'hour', 'minute', 'second'];
    amounts float8[];
    words text := '';
BEGIN
    IF NOT pg_catalog.isfinite(i) THEN
        RETURN i::text;
    END IF;
    j := pg_catalog.justify_hours(i);
    amounts := ARRAY[pg_catalog.date_part('year', j), pg_catalog.date_part('month', j),
                     pg_catalog.date_part('day', j), pg_catalog.date_part('hour', j),
                     pg_catalog.date_part('minute', j), pg_catalog.date_part('second', j)];
    -- fields of both signs ('1 month -3 days'): counted in 30-day months
    IF 0 < ANY (amounts) AND 0 > ANY (amounts) THEN
        j := pg_catalog.justify_interval(i);
    END IF;
    IF j < interval '0' THEN
        RETURN '-' || wallet_ops._interval_words(-j);
    END IF;
    IF j = interval '0' THEN
        RETURN '0 seconds';
    ELSIF j < interval '1 second' THEN
        RETURN 'less than a second';
    END IF;
    amounts := ARRAY[pg_catalog.date_part('year', j), pg_catalog.date_part('month', j),
                     pg_catalog.date_part('day', j), pg_catalog.date_part('hour', j),
                     pg_catalog.date_part('minute', j), pg_catalog.floor(pg_catalog.date_part('second', j))];
    FOR k IN 1 .. 6 LOOP
        CONTINUE WHEN amounts[k] = 0;
        words := amounts[k]::numeric::text || ' ' || units[k] || CASE WHEN amounts[k] = 1 THEN '' ELSE 's' END;
        IF k < 6 AND amounts[k + 1] <> 0 THEN
            words := words || ' ' || amounts[k + 1]::numeric::text || ' ' || units[k + 1]
                     || CASE WHEN amounts[k + 1] = 1 THEN '' ELSE 's' END;
        END IF;
        RETURN words;
    END LOOP;
    RETURN words;
END
$$;
REVOKE ALL ON FUNCTION wallet_ops._interval_words(interval) FROM PUBLIC;
