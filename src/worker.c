/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The background workers of wallet_ops.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "worker.h"

/* Placeholder until the worker lands: nothing is registered yet. */
void
WalletOpsRegisterLauncher(void)
{
}
