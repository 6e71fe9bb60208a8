-- The seed's schema, as far as wallet_ops touches it (operations guide,
-- section 5.2 and runbooks 9.5 and 9.6): entity_history partitioned by
-- month with a jsonb payload, audit_log partitioned by quarter, the
-- access model under mv_effective_access, and the ingest service's role
-- wallet_ingest.  Partitions for 2026 exist, as they were made by hand;
-- bounds are in UTC.  The README's quick tour starts with \i of this file.
SET TimeZone = 'UTC';

-- Roles belong to the cluster, not the database: made once, kept if there.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'wallet_ingest') THEN
        CREATE ROLE wallet_ingest;
    END IF;
END
$$;

CREATE TABLE identities (
    identity_id  uuid PRIMARY KEY,
    display_name text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('user', 'service', 'wallet')),
    disabled     boolean NOT NULL DEFAULT false
);

CREATE TABLE access_groups (
    group_id uuid PRIMARY KEY,
    name     text NOT NULL UNIQUE
);

CREATE TABLE group_members (
    group_id    uuid NOT NULL REFERENCES access_groups,
    identity_id uuid NOT NULL REFERENCES identities,
    PRIMARY KEY (group_id, identity_id)
);

CREATE TABLE access_grants (
    grant_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    principal_id uuid NOT NULL,          -- an identity or a group
    resource     text NOT NULL,
    permission   text NOT NULL
);

CREATE TABLE entity_history (
    history_id  bigint GENERATED ALWAYS AS IDENTITY,
    entity_id   uuid NOT NULL,
    entity_type text NOT NULL,
    change_type text NOT NULL CHECK (change_type IN ('create', 'update', 'delete')),
    payload     jsonb NOT NULL,
    changed_by  text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (history_id, changed_at)
) PARTITION BY RANGE (changed_at);

CREATE TABLE audit_log (
    audit_id    bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    action      text NOT NULL,
    target_type text,
    target_id   text,
    details     jsonb,
    client_addr inet,
    PRIMARY KEY (audit_id, occurred_at)
) PARTITION BY RANGE (occurred_at);

DO $$
DECLARE
    m int;
BEGIN
    FOR m IN 1..12 LOOP
        EXECUTE format('CREATE TABLE entity_history_2026_%s PARTITION OF entity_history'
                       ' FOR VALUES FROM (%L) TO (%L)',
                       lpad(m::text, 2, '0'),
                       make_date(2026, m, 1),
                       make_date(2026, m, 1) + interval '1 month');
    END LOOP;
    FOR m IN 1..4 LOOP
        EXECUTE format('CREATE TABLE audit_log_2026_q%s PARTITION OF audit_log'
                       ' FOR VALUES FROM (%L) TO (%L)',
                       m,
                       make_date(2026, 3 * m - 2, 1),
                       make_date(2026, 3 * m - 2, 1) + interval '3 months');
    END LOOP;
END
$$;

CREATE INDEX ON entity_history (entity_id, changed_at);

CREATE MATERIALIZED VIEW mv_effective_access AS
    SELECT i.identity_id, g.resource, g.permission
      FROM identities i
      JOIN access_grants g ON g.principal_id = i.identity_id
     WHERE NOT i.disabled
    UNION
    SELECT i.identity_id, g.resource, g.permission
      FROM identities i
      JOIN group_members gm ON gm.identity_id = i.identity_id
      JOIN access_grants g ON g.principal_id = gm.group_id
     WHERE NOT i.disabled;

CREATE UNIQUE INDEX mv_effective_access_key
    ON mv_effective_access (identity_id, resource, permission);

RESET TimeZone;
