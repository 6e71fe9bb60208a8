-- A small ingest: identities, groups, grants, entity history and audit
-- events spread over 2026.
SET TimeZone = 'UTC';

INSERT INTO identities
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
       'identity ' || i,
       (ARRAY['user', 'service', 'wallet'])[1 + i % 3],
       i % 17 = 0
  FROM generate_series(1, 200) i;

INSERT INTO access_groups
SELECT ('10000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'group ' || g
  FROM generate_series(1, 10) g;

INSERT INTO group_members
SELECT ('10000000-0000-4000-8000-' || lpad(to_hex(1 + i % 10), 12, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid
  FROM generate_series(1, 200) i;

INSERT INTO access_grants (principal_id, resource, permission)
SELECT ('10000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
       'wallet:' || g, p
  FROM generate_series(1, 10) g, unnest(ARRAY['read', 'transfer']) p;

INSERT INTO entity_history (entity_id, entity_type, change_type, payload, changed_by, changed_at)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(1 + n % 200), 12, '0'))::uuid,
       'wallet',
       CASE WHEN n <= 200 THEN 'create' ELSE 'update' END,
       jsonb_build_object('balance', (n * 37) % 10000, 'currency', 'EUR',
                          'note', 'Überweisung ✓ #' || n),
       'ingest',
       timestamptz '2026-01-01' + n * interval '7 minutes'
  FROM generate_series(1, 2000) n;

INSERT INTO audit_log (occurred_at, actor, action, target_type, target_id, details, client_addr)
SELECT timestamptz '2026-01-01' + n * interval '3 hours', 'ingest', 'wallet.update',
       'wallet', n::text, jsonb_build_object('n', n), '10.0.0.1'
  FROM generate_series(1, 500) n;

RESET TimeZone;
