/*-------------------------------------------------------------------------
 *
 * matview_changes.h
 *		Change tracking for managed materialised views: what refreshing
 *		(matview_refresh.c) needs of it.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/matview_changes.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_MATVIEW_CHANGES_H
#define WALLET_OPS_MATVIEW_CHANGES_H

#include "postgres.h"

#include "nodes/pg_list.h"

/* The relations the view or materialised view mvoid reads (its sources). */
extern List *MatviewSourceList(Oid mvoid);

/* Give every source of an on_change view a watcher and no other table one. */
extern void MatviewSyncWatchers(void);

#endif							/* WALLET_OPS_MATVIEW_CHANGES_H */
