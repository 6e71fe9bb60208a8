/*-------------------------------------------------------------------------
 *
 * append_only.h
 *		Append-only tables: wallet_ops.enforce_append_only(),
 *		release_append_only(), grant_ingest() and revoke_ingest(), the guard
 *		trigger (append_only_guard.c) and the event triggers that keep the
 *		protection in place (append_only_ddl.c).  What the rest of wallet_ops
 *		may call; all of it is defined in append_only_guard.c.
 *
 * A protected table (plain or partitioned) carries, on itself and on every
 * partition, present or future:
 *
 *	- wallet_ops_append_only_row: BEFORE UPDATE OR DELETE FOR EACH ROW,
 *	  created on the protected table and cloned by PostgreSQL to partitions;
 *	- wallet_ops_append_only_stmt: BEFORE UPDATE OR DELETE OR TRUNCATE FOR
 *	  EACH STATEMENT, created by wallet_ops on every member of the tree;
 *
 * both ENABLE ALWAYS, so session_replication_role = replica does not skip
 * them.  There is no INSERT trigger: inserts pay nothing.  Event triggers
 * (ENABLE ALWAYS, owned by the extension) refuse the DDL that would remove
 * or disable that protection and add it to new partitions.  The protected
 * set is wallet_ops.append_only_tables, dumped by pg_dump.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/append_only.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_APPEND_ONLY_H
#define WALLET_OPS_APPEND_ONLY_H

#include "postgres.h"

/* Names of the guard triggers, reserved on every table. */
#define APPEND_ONLY_ROW_TRIGGER		"wallet_ops_append_only_row"
#define APPEND_ONLY_STMT_TRIGGER	"wallet_ops_append_only_stmt"

/*
 * Make relid (a plain or partitioned table) append-only: what
 * wallet_ops.enforce_append_only() does, without its ownership check (the
 * caller has done that, e.g. enable_hash_chain).  Idempotent: calling it
 * on a protected table repairs anything missing.  Rows must be in their
 * final state first: afterwards no UPDATE reaches them (hash-chain sealing
 * comes before this call).
 */
extern void AppendOnlyProtect(Oid relid);


/*
 * Maintenance bypass for C code only (never reachable from SQL): between
 * AppendOnlyAllowMaintenance(true) and AppendOnlyAllowMaintenance(false),
 * this backend may DETACH and DROP partitions of protected tables and
 * UPDATE, DELETE and TRUNCATE their rows (partition retention, moving rows
 * out of a default partition).  The protected tables themselves still
 * cannot be dropped.  The flag is cleared automatically at the end of the
 * transaction and when the subtransaction that set it aborts; callers should
 * still clear it in PG_FINALLY.  A partition detached under the bypass
 * becomes an ordinary table (its wallet_ops triggers are removed).
 */
extern void AppendOnlyAllowMaintenance(bool allow);
extern bool AppendOnlyMaintenanceAllowed(void);

/*
 * Install the ProcessUtility hook that refuses TRUNCATE of the shard of an
 * append-only Citus table on a worker (docs/citus.md); from _PG_init().
 */
extern void AppendOnlyInstallHooks(void);

#endif							/* WALLET_OPS_APPEND_ONLY_H */
