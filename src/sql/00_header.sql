/* wallet_ops--1.1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION wallet_ops" to load this file. \quit

COMMENT ON SCHEMA wallet_ops IS
  'wallet_ops: hash-chained ledgers, append-only tables, partitions made ahead of time, materialised views kept fresh';

REVOKE ALL ON SCHEMA wallet_ops FROM PUBLIC;
GRANT USAGE ON SCHEMA wallet_ops TO PUBLIC;
