/*-------------------------------------------------------------------------
 *
 * matviews.h
 *		Materialised views kept fresh: change tracking on their sources and
 *		refreshes by the worker.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/matviews.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_MATVIEWS_H
#define WALLET_OPS_MATVIEWS_H

#include "maintenance.h"

/*
 * Refresh every managed view that is due (stale, or older than its
 * refresh_every); only_relid restricts the pass to one view when valid.
 */
extern void MatviewsRunMaintenance(Oid only_relid, MaintenanceReport *report);

#endif							/* WALLET_OPS_MATVIEWS_H */
