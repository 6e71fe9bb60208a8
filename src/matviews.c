/*-------------------------------------------------------------------------
 *
 * matviews.c
 *		Materialised views kept fresh.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/matviews.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "matviews.h"

/* Placeholder until managed views land: there is nothing to refresh. */
void
MatviewsRunMaintenance(Oid only_relid, MaintenanceReport *report)
{
}
