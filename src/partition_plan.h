/*-------------------------------------------------------------------------
 *
 * partition_plan.h
 *		Deciding what a managed table's partitions need: periods, calendar
 *		arithmetic in the configured time zone, and the plan.
 *
 * Nothing here changes anything; partitions.c carries a plan out.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/partition_plan.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_PARTITION_PLAN_H
#define WALLET_OPS_PARTITION_PLAN_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/relcache.h"

#include "partition_config.h"

/* An existing (non-default) partition and its bounds. */
typedef struct ExistingPart
{
	Oid			relid;
	int64		lo;				/* inclusive */
	int64		hi;				/* exclusive */
} ExistingPart;

/* A partition the plan wants, for one period. */
typedef struct PlanItem
{
	int			jstart;			/* Julian day of the local period start */
	int64		lo;
	int64		hi;
	char	   *name;
	bool		has_default_rows;	/* rows to move from the default */
	Oid			existing;		/* adopted partition, or InvalidOid */
} PlanItem;

/* What is known about the managed table. */
typedef struct PartTable
{
	Oid			relid;
	Oid			owner;
	bool		has_acl;		/* the parent has grants to copy */
	char	   *columns;		/* quoted stored, non-generated columns */
	char	   *nspname;
	char	   *relname;
	char	   *qualname;		/* quoted schema.table */
	char	   *keyname;		/* quoted key column */
	Oid			keytype;
	Oid			default_oid;
	int			nparts;
	ExistingPart *parts;		/* sorted by lo */
	bool		on_citus;		/* set by the caller: a Citus table, whose rows
								 * (the default partition's too) are on the
								 * workers */
} PartTable;

/* The result of planning one table. */
typedef struct PartPlan
{
	bool		need_default;
	List	   *wanted;			/* PlanItem *, the premade periods */
	List	   *create;			/* PlanItem *, to create, sorted by lo */
	List	   *drop;			/* ExistingPart *, beyond retention */
	List	   *notes;			/* char *, rows that cannot be moved */
	PlanItem   *conflict;		/* first planned period that overlaps */
	ExistingPart *conflict_with;
	bool		default_has_rows;
} PartPlan;

/* Refuses rel unless it is range-partitioned on one date or time column. */
extern void PartitionPlanCheckTable(Relation rel, Oid *keytype,
									AttrNumber *keyattno);

/* Fills t from the catalogs; t->relid is set and locked by the caller. */
extern void PartitionPlanReadTable(PartTable *t);

/*
 * Works out what t needs as of at under cfg; notes are allocated in outer.
 * Reads the catalogs and the default partition only.
 */
extern void PartitionPlanMake(PartConfig *cfg, PartTable *t, TimestampTz at,
							  MemoryContext outer, PartPlan *plan);

/* True when carrying out plan would change anything (or must fail). */
extern bool PartitionPlanHasWork(PartPlan *plan);

/*
 * The end of t's partitions contiguous from the period containing at, as a
 * timestamptz; false when there is none or it is unbounded.
 */
extern bool PartitionPlanRunway(PartConfig *cfg, PartTable *t, TimestampTz at,
								TimestampTz *runway);

/* A key value as a bound literal, independent of DateStyle and TimeZone. */
extern char *PartitionPlanKeyText(int64 key, Oid keytype);

/* The name of relname's default partition. */
extern char *PartitionPlanDefaultName(const char *relname);

/* The quoted "schema.name" of a partition of a table the caller locked. */
extern char *PartitionPlanQualifiedName(Oid partid);

#endif							/* WALLET_OPS_PARTITION_PLAN_H */
