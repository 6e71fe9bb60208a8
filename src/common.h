/*-------------------------------------------------------------------------
 *
 * common.h
 *		The ground floor of wallet_ops: settings and small helpers shared by
 *		every part of it.  Depends on no other file of src/.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/common.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_COMMON_H
#define WALLET_OPS_COMMON_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"
#include "nodes/pg_list.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"
#include "utils/tuplestore.h"

/* strtoi64() came with PostgreSQL 15. */
#if PG_VERSION_NUM < 150000
#define strtoi64(str, endptr, base) ((int64) strtoll(str, endptr, base))
#endif

/* The schema every object of the extension lives in (not relocatable). */
#define WALLET_OPS_SCHEMA "wallet_ops"

/* Settings (GUCs), defined in common.c. */
extern int	wallet_ops_naptime;			/* seconds between worker ticks */
extern int	wallet_ops_lock_timeout;	/* milliseconds DDL may wait */
extern bool wallet_ops_enabled;			/* worker does maintenance */
extern char *wallet_ops_role;			/* role maintenance runs as */
extern char *wallet_ops_databases;		/* databases the worker may serve */
extern int	wallet_ops_job_log_retention;	/* minutes job_log rows are kept */
extern int	wallet_ops_max_workers;		/* size of the worker pool */
extern int	wallet_ops_verify_jobs;		/* parallel workers of a verification */
#define WALLET_OPS_MAX_VERIFY_JOBS 64
extern char *wallet_ops_digest_archive_command;	/* ships digests */
extern int	wallet_ops_digest_archive_timeout;	/* seconds it may run */

/* True when the library was loaded by shared_preload_libraries. */
extern bool wallet_ops_preloaded;

/* Defines the settings above; called once, from _PG_init. */
extern void WalletOpsDefineSettings(void);

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

/* Whether roleid owns relid (directly or through role membership). */
extern bool WalletOpsOwnsRelation(Oid relid, Oid roleid);

/*
 * ERROR (42501) unless relid may be put under one of wallet_ops' guards
 * (append-only, hash chain, managed partitions, managed view, watched
 * source, scheduled verification): never a system catalog, never a relation
 * of wallet_ops' own schema, whose tables the extension itself writes and
 * prunes.  what completes "cannot %s ...", e.g. "make append-only".
 */
extern void WalletOpsCheckGuardable(Oid relid, const char *what);

/*
 * The first column of the last SPI result, read as OIDs, as a list
 * allocated in cxt (so that it outlives SPI_finish).
 */
extern List *WalletOpsSpiOidList(MemoryContext cxt);

/*
 * Direct reads of wallet_ops' own tables, without parsing or planning a
 * query (the maintenance pass runs them in every fresh session), with the
 * latest snapshot.  WalletOpsOwnTableHasRows: whether relname has a row
 * (true when the table is missing, so that callers go on and report it).
 * WalletOpsOwnTableOids: the non-null values of its OID column colname,
 * sorted.
 */
extern bool WalletOpsOwnTableHasRows(const char *relname);

/* The OID of wallet_ops' own relation relname, InvalidOid when missing. */
extern Oid	WalletOpsOwnRelid(const char *relname);

/*
 * Whether table relid (locked ACCESS SHARE until the end of the transaction)
 * has a row visible to the latest snapshot, read directly: no query to
 * parse and plan.
 */
extern bool WalletOpsRelationHasRows(Oid relid);
extern List *WalletOpsOwnTableOids(const char *relname, const char *colname);

/*
 * The row of wallet_ops' own table relname whose first column (an OID, its
 * primary key relname_pkey) is key, copied, or NULL; *desc gets a copy of
 * the table's descriptor to read it with.
 */
extern HeapTuple WalletOpsOwnTableFetch(const char *relname, Oid key, TupleDesc *desc);

/*
 * The first row of wallet_ops' own table relname in the order of its index
 * indexname (its oldest, say), copied, or NULL when the table is empty;
 * *desc as above.
 */
extern HeapTuple WalletOpsOwnTableFirst(const char *relname, const char *indexname,
										TupleDesc *desc);

/*
 * Set up a set-returning function in materialize mode: afterwards the
 * ReturnSetInfo's setResult and setDesc are the tuplestore to fill and its
 * descriptor (the call's declared result type).
 */
extern void WalletOpsMaterializeSRF(FunctionCallInfo fcinfo);

/*
 * What a maintenance step did, one (object, action, detail) row per thing:
 * the rows of run_maintenance(), or, for the worker (tupstore NULL), only
 * counted.  Each step adds to it and returns; maintenance.c reads it.
 */
typedef struct ActionReport
{
	Tuplestorestate *tupstore;
	TupleDesc	tupdesc;
	uint64		actions;		/* rows reported so far */
	uint64		errors;			/* objects whose maintenance failed */
} ActionReport;

/*
 * Sets up report as the materialised result (object, action, detail) of the
 * set-returning SQL function called through fcinfo.
 */
extern void ActionReportInit(FunctionCallInfo fcinfo, ActionReport *report);
extern void ActionReportAdd(ActionReport *report, const char *object,
							const char *action, const char *detail);

#endif							/* WALLET_OPS_COMMON_H */
