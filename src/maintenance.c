/*-------------------------------------------------------------------------
 *
 * maintenance.c
 *		One maintenance pass over every managed object.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/maintenance.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "maintenance.h"

void
MaintenanceReportAction(MaintenanceReport *report, const char *object,
						const char *action, const char *detail)
{
	report->actions++;

	if (report->tupstore)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(object);
		values[1] = CStringGetTextDatum(action);
		if (detail)
			values[2] = CStringGetTextDatum(detail);
		else
			nulls[2] = true;
		tuplestore_putvalues(report->tupstore, report->tupdesc, values, nulls);
	}
}
