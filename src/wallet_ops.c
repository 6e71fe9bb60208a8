/*-------------------------------------------------------------------------
 *
 * wallet_ops.c
 *		Module entry point: _PG_init defines the settings, installs the
 *		hash chain's executor hooks and, when loaded through
 *		shared_preload_libraries, registers the background worker.
 *
 * Every SQL-callable function of the extension works without the library
 * being preloaded; only the worker needs shared_preload_libraries.  This is
 * the top floor: it includes the concerns it starts, and nothing includes
 * it.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/wallet_ops.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "append_only.h"
#include "chain_trigger.h"
#include "common.h"
#include "worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	WalletOpsDefineSettings();

	/*
	 * The hash-chain trigger needs to know whether an INSERT ... ON CONFLICT
	 * is running; installed here, the hooks see every statement of the
	 * session, not only those after the trigger's first call.
	 */
	ChainInstallHooks();
	AppendOnlyInstallHooks();

	if (!process_shared_preload_libraries_in_progress)
		return;

	wallet_ops_preloaded = true;
	WalletOpsRegisterLauncher();
}
