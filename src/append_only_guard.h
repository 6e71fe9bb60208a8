/*-------------------------------------------------------------------------
 *
 * append_only_guard.h
 *		What the event triggers of append_only_ddl.c need from
 *		append_only_guard.c: the protected set, and protecting what joins a
 *		protected tree or leaves it.
 *
 * The rest of wallet_ops includes append_only.h, not this file.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/append_only_guard.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_APPEND_ONLY_GUARD_H
#define WALLET_OPS_APPEND_ONLY_GUARD_H

#include "postgres.h"

#include "nodes/pg_list.h"

#include "append_only.h"

/* True while the guard runs its own DDL: the event triggers stand aside. */
extern bool AppendOnlyRunningOwnDDL(void);

/* False while the extension is being dropped or not yet fully created. */
extern bool AppendOnlyConfigAvailable(void);

/* Every protected relid that still exists (wallet_ops.append_only_tables). */
extern List *AppendOnlyConfigRelids(void);

/* Add relid to the protected set, as protected by the current user. */
extern void AppendOnlyConfigInsert(Oid relid);

/* Forget the protection and ingest grants of relations that were dropped. */
extern void AppendOnlyForgetRelations(List *relids);

/* relid itself or its nearest ancestor in config; InvalidOid when none. */
extern Oid	AppendOnlyCoveringEntry(Oid relid, List *config);

/* ERROR unless the current user owns relid. */
extern void AppendOnlyCheckOwner(Oid relid);

/* Before top's tree joins a protected tree: drop what the new parent gives. */
extern void AppendOnlyAbsorbSubtree(Oid top, List *config);

/* A partition joined a tree: its triggers if protected, inherited grants. */
extern void AppendOnlyProtectNewPartition(Oid relid);

/* A partition left parent's protected tree: it becomes an ordinary table. */
extern void AppendOnlyReleaseDetached(Oid parent, Oid part);

#endif							/* WALLET_OPS_APPEND_ONLY_GUARD_H */
