/*-------------------------------------------------------------------------
 *
 * digest_ship.h
 *		Digests taken on a schedule by the worker, written under the data
 *		directory and shipped outside by wallet_ops.digest_archive_command.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/digest_ship.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_DIGEST_SHIP_H
#define WALLET_OPS_DIGEST_SHIP_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

#include "common.h"

/* The tables whose digests are scheduled (wallet_ops.digest_schedule). */
extern List *DigestShipScheduledTables(void);

/*
 * For one scheduled table, as of now: take its digest when one is due,
 * then ship every digest of it still waiting, oldest first, until the
 * command fails (retried later, with back-off).  Each attempt is recorded
 * in job_log.
 */
extern void DigestShipRun(Oid relid, TimestampTz now, ActionReport *report);

#endif							/* WALLET_OPS_DIGEST_SHIP_H */
