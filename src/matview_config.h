/*-------------------------------------------------------------------------
 *
 * matview_config.h
 *		The tables of managed materialised views, wallet_ops.matviews,
 *		wallet_ops.matview_state and wallet_ops.matview_changes: everything
 *		change tracking and refreshing read from them or write to them.
 *
 * Every function here acts as the owner of the tables and restores the
 * caller's user before it returns.  Lists are allocated in the caller's
 * memory context.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/matview_config.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_MATVIEW_CONFIG_H
#define WALLET_OPS_MATVIEW_CONFIG_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

/* True when wallet_ops' tables exist (not while the extension is dropped). */
extern bool MatviewConfigInstalled(void);

/* Whether any view is managed (read directly: see WalletOpsOwnTableHasRows) */
extern bool MatviewConfigAnyManaged(void);

/* Whether a view is managed or change rows are left to prune (read so too) */
extern bool MatviewConfigAnyWork(void);

/* Act as the tables' owner until SetUserIdAndSecContext restores *save_userid. */
extern void MatviewConfigBecomeOwner(Oid *save_userid, int *save_sec_context);

/* "schema.name" of relid, quoted as needed, for messages; NULL if it is gone. */
extern char *MatviewDisplayName(Oid relid);

/* Record mvoid as managed, with its state row; false if it already is. */
extern bool MatviewConfigAdd(Oid mvoid, Interval *every, bool on_change,
							 const char *managed_by);

/* Forget managed view mvoid; false if it was not managed. */
extern bool MatviewConfigRemove(Oid mvoid);

/* True when mvoid is a managed view. */
extern bool MatviewConfigIsManaged(Oid mvoid);

/* The existing managed materialised views refreshed on change. */
extern List *MatviewConfigOnChangeViews(void);

/* True when some managed view is refreshed on change. */
extern bool MatviewConfigAnyOnChange(void);

/* Whether a managed view is refreshed at least every some interval. */
extern bool MatviewConfigAnyTimed(void);

/* Forget managed views no longer in pg_class; returns their OIDs. */
extern List *MatviewConfigDeleteVanished(void);

/* In a sql_drop event trigger: forget the managed views dropped; true if any. */
extern bool MatviewConfigDeleteDropped(void);

/* OIDs of the views due now (only_relid alone if valid); *reasons says why. */
extern List *MatviewConfigDue(Oid only_relid, List **reasons);

/* Record a refresh of mvoid: its state row, and a change row for its readers. */
extern void MatviewConfigRecordRefresh(Oid mvoid, const char *mode,
									   const char *snapshot, TimestampTz started,
									   const char *refresher);

/* Record a failed refresh of mvoid in its state row. */
extern void MatviewConfigRecordFailure(Oid mvoid, ErrorData *edata);

/* Delete the change rows every view reading their source has seen. */
extern void MatviewConfigPruneChanges(void);

/* Append the change row (relid, top-level xid, now) of the current transaction. */
extern void MatviewConfigRecordChange(Oid relid);

#endif							/* WALLET_OPS_MATVIEW_CONFIG_H */
