/*-------------------------------------------------------------------------
 *
 * metrics.c
 *		wallet_ops.metrics(): the figures of wallet_ops.status and
 *		wallet_ops.health() in Prometheus text exposition format, and the
 *		small facts about the library that SQL cannot see.
 *
 * The samples themselves are chosen in SQL (wallet_ops._metric_samples,
 * src/sql/90_ops.sql); this file only writes them out: one HELP and one
 * TYPE line per metric family, followed by its samples, with label values
 * and HELP text escaped as the exposition format requires, and values
 * written so that Prometheus reads them back exactly.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/metrics.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "common.h"

PG_FUNCTION_INFO_V1(wallet_ops_is_preloaded);
PG_FUNCTION_INFO_V1(wallet_ops_metrics);

static void append_value(StringInfo buf, double v);
static int	text_array(Datum d, bool isnull, Datum **elems, bool **nulls);
static void prom_escape(StringInfo buf, const char *s, bool for_help);

/*
 * wallet_ops._preloaded() RETURNS boolean: whether the library came in
 * through shared_preload_libraries (otherwise no worker runs).
 */
Datum
wallet_ops_is_preloaded(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(wallet_ops_preloaded);
}

/*
 * Appends s to buf escaped as a Prometheus label value (backslash, double
 * quote and line feed escaped), or, with for_help, as HELP text (backslash
 * and line feed escaped).
 */
static void
prom_escape(StringInfo buf, const char *s, bool for_help)
{
	const char *p;

	for (p = s; *p; p++)
	{
		if (*p == '\\')
			appendStringInfoString(buf, "\\\\");
		else if (*p == '\n')
			appendStringInfoString(buf, "\\n");
		else if (*p == '"' && !for_help)
			appendStringInfoString(buf, "\\\"");
		else
			appendStringInfoChar(buf, *p);
	}
}

/* A sample value as Go's strconv.ParseFloat (Prometheus) reads it. */
static void
append_value(StringInfo buf, double v)
{
	if (isnan(v))
		appendStringInfoString(buf, "NaN");
	else if (isinf(v))
		appendStringInfoString(buf, v > 0 ? "+Inf" : "-Inf");
	else if (v == rint(v) && fabs(v) < 1e15)
		appendStringInfo(buf, "%.0f", v);
	else
	{
		char		s[DOUBLE_SHORTEST_DECIMAL_LEN];

		/* the shortest text that reads back as the same double */
		(void) double_to_shortest_decimal_buf(v, s);
		appendStringInfoString(buf, s);
	}
}

static int
text_array(Datum d, bool isnull, Datum **elems, bool **nulls)
{
	int			n = 0;

	*elems = NULL;
	*nulls = NULL;
	if (isnull)
		return 0;
	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
					  elems, nulls, &n);
	return n;
}

/*
 * wallet_ops._metrics_at(at timestamptz) RETURNS text, behind
 * wallet_ops.metrics().
 */
Datum
wallet_ops_metrics(PG_FUNCTION_ARGS)
{
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(0);
	Oid			argtypes[1] = {TIMESTAMPTZOID};
	Datum		args[1];
	StringInfoData buf;
	MemoryContext caller = CurrentMemoryContext;
	char	   *family = NULL;
	text	   *result;
	uint64		r;
	int			ret;

	args[0] = TimestampTzGetDatum(at);
	SPI_connect();
	ret = SPI_execute_with_args("SELECT metric, help, metric_type, label_names, label_values, value"
								"  FROM wallet_ops._metric_samples($1)"
								" ORDER BY family_order, metric, label_values",
								1, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read wallet_ops._metric_samples(): %s",
			 SPI_result_code_string(ret));

	initStringInfo(&buf);
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *metric = SPI_getvalue(tup, desc, 1);
		bool		isnull;
		Datum		d;
		Datum	   *names;
		Datum	   *values;
		bool	   *nnulls;
		bool	   *vnulls;
		int			nnames;
		int			nvalues;
		int			i;
		bool		first = true;
		double		v;

		d = SPI_getbinval(tup, desc, 6, &isnull);
		if (isnull)
			continue;			/* no figure: no sample */
		v = DatumGetFloat8(d);

		if (family == NULL || strcmp(family, metric) != 0)
		{
			char	   *help = SPI_getvalue(tup, desc, 2);
			char	   *type = SPI_getvalue(tup, desc, 3);

			appendStringInfo(&buf, "# HELP %s ", metric);
			prom_escape(&buf, help ? help : "", true);
			appendStringInfo(&buf, "\n# TYPE %s %s\n", metric, type ? type : "untyped");
			family = metric;
		}

		appendStringInfoString(&buf, metric);
		d = SPI_getbinval(tup, desc, 4, &isnull);
		nnames = text_array(d, isnull, &names, &nnulls);
		d = SPI_getbinval(tup, desc, 5, &isnull);
		nvalues = text_array(d, isnull, &values, &vnulls);
		if (nnames != nvalues)
			elog(ERROR, "metric %s has %d label names and %d values", metric, nnames, nvalues);
		for (i = 0; i < nnames; i++)
		{
			if (nnulls[i])
				continue;
			appendStringInfoString(&buf, first ? "{" : ",");
			first = false;
			appendStringInfo(&buf, "%s=\"", TextDatumGetCString(names[i]));
			if (!vnulls[i])
				prom_escape(&buf, TextDatumGetCString(values[i]), false);
			appendStringInfoChar(&buf, '"');
		}
		if (!first)
			appendStringInfoChar(&buf, '}');
		appendStringInfoChar(&buf, ' ');
		append_value(&buf, v);
		appendStringInfoChar(&buf, '\n');
	}

	/* the result must outlive SPI_finish */
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		result = cstring_to_text_with_len(buf.data, buf.len);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	PG_RETURN_TEXT_P(result);
}
