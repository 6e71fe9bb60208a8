/*-------------------------------------------------------------------------
 *
 * wallet_ops.h
 *		Settings and small helpers shared by every part of wallet_ops.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/wallet_ops.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_H
#define WALLET_OPS_H

#include "postgres.h"

#include "fmgr.h"
#include "nodes/pg_list.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"

/* The schema every object of the extension lives in (not relocatable). */
#define WALLET_OPS_SCHEMA "wallet_ops"

/* Settings (GUCs), defined in wallet_ops.c. */
extern int	wallet_ops_naptime;			/* seconds between worker ticks */
extern int	wallet_ops_lock_timeout;	/* milliseconds DDL may wait */
extern bool wallet_ops_enabled;			/* worker does maintenance */
extern char *wallet_ops_role;			/* role maintenance runs as */
extern char *wallet_ops_databases;		/* databases the worker may serve */
extern int	wallet_ops_job_log_retention;	/* minutes job_log rows are kept */

/* True when the library was loaded by shared_preload_libraries. */
extern bool wallet_ops_preloaded;

/*
 * Acting as the extension's owner, with a search_path nobody else controls,
 * to read and write wallet_ops' own tables whatever the caller may touch.
 * A (sub)transaction abort restores the user and the search_path as well.
 */
typedef struct WalletOpsOwnerContext
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
} WalletOpsOwnerContext;

extern Oid	WalletOpsExtensionOwner(void);
extern void WalletOpsOwnerBegin(WalletOpsOwnerContext *ctx);
extern void WalletOpsOwnerEnd(WalletOpsOwnerContext *ctx);

/*
 * Every function that takes a table by OID starts with one of these, so
 * that no name is ever built from an OID nobody has locked: a dangling OID
 * is refused with 42P01 before anything looks at the relation.
 */
extern Relation WalletOpsRelationOpen(Oid relid, LOCKMODE lockmode);
extern void WalletOpsRelationLock(Oid relid, LOCKMODE lockmode);
extern char *WalletOpsRelationQualifiedName(Relation rel);

/*
 * The first column of the last SPI result, read as OIDs, as a list
 * allocated in cxt (so that it outlives SPI_finish).
 */
extern List *WalletOpsSpiOidList(MemoryContext cxt);

/*
 * Set up a set-returning function in materialize mode: afterwards the
 * ReturnSetInfo's setResult and setDesc are the tuplestore to fill and its
 * descriptor (the call's declared result type).
 */
extern void WalletOpsMaterializeSRF(FunctionCallInfo fcinfo);

#endif							/* WALLET_OPS_H */
