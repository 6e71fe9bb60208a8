/*-------------------------------------------------------------------------
 *
 * matview_refresh.h
 *		Refreshing managed materialised views: what the worker and
 *		run_maintenance() call.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/matview_refresh.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_MATVIEW_REFRESH_H
#define WALLET_OPS_MATVIEW_REFRESH_H

#include "common.h"
#include "nodes/pg_list.h"

/* manage_matview() with on_change of a view that reads a Citus table */
#define ERRCODE_WALLET_OPS_MATVIEW_ON_CITUS	MAKE_SQLSTATE('W','O','0','1','3')

/*
 * Refresh every managed view that is due (stale, or older than its
 * refresh_every); only_relid restricts the pass to one view when valid.
 */
extern void MatviewsRunMaintenance(Oid only_relid, ActionReport *report);

/*
 * The managed views due for a refresh now, in refresh order, allocated in
 * the caller's memory context: lets the worker refresh each one in a
 * transaction of its own with MatviewsRunMaintenance(view, report), so that
 * a refresh is visible to readers as soon as it is done.
 */
extern List *MatviewsDueViews(void);

/*
 * Whether the views need the worker at intervals: one has a refresh_every,
 * or one is due now (a refresh may fail and must be retried).  Views
 * refreshed only on change need it only when a change wakes the launcher.
 */
extern bool MatviewsNeedTicks(void);

/*
 * Removes, and records in job_log, the configuration of managed views that
 * were dropped behind the event triggers' back.
 */
extern void MatviewsForgetDropped(ActionReport *report);

#endif							/* WALLET_OPS_MATVIEW_REFRESH_H */
