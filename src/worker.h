/*-------------------------------------------------------------------------
 *
 * worker.h
 *		The background workers: a launcher that knows which databases are
 *		due for maintenance, and a bounded pool of workers that each do one
 *		database's tick.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/worker.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_WORKER_H
#define WALLET_OPS_WORKER_H

/* Called from _PG_init while shared_preload_libraries is processed. */
extern void WalletOpsRegisterLauncher(void);

#endif							/* WALLET_OPS_WORKER_H */
