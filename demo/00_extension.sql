-- The extension, preloaded: its worker and settings.
CREATE EXTENSION wallet_ops;
SELECT name, setting, unit FROM pg_settings WHERE name LIKE 'wallet\_ops.%' ORDER BY name;
