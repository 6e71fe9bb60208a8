-- The extension, preloaded: its worker and settings.
CREATE EXTENSION wallet_ops;
SELECT name, setting, unit FROM pg_settings WHERE name LIKE 'wallet\_ops.%' ORDER BY name;

-- The story's lines: each step \echo-es one, with the figure that matters
-- (scripts/demo.sh shows only these, unless VERBOSE=1).
SELECT extversion AS ext_version FROM pg_extension WHERE extname = 'wallet_ops' \gset
SELECT setting AS naptime FROM pg_settings WHERE name = 'wallet_ops.naptime' \gset
\echo 'extension:   wallet_ops' :ext_version 'preloaded, a worker tick every' :naptime 's'
