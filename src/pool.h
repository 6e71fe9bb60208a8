/*-------------------------------------------------------------------------
 *
 * pool.h
 *		The shared state of the worker pool: the slots of the running
 *		workers, the databases backends ask the launcher to look at, and
 *		the figures the launcher publishes for health() and metrics().
 *
 * Backends, the launcher and the workers meet here; the launcher's and
 * workers' code is in worker.c.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/pool.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_POOL_H
#define WALLET_OPS_POOL_H

#include <signal.h>

#include "datatype/timestamp.h"
#include "storage/spin.h"

/* What a worker found in its database, for the launcher's schedule. */
typedef enum PoolFinding
{
	POOL_FOUND_NOTHING = 0,		/* the worker did not say (it failed) */
	POOL_FOUND_NO_EXTENSION,	/* no wallet_ops here: never again until
								 * CREATE EXTENSION */
	POOL_FOUND_IDLE,			/* nothing managed: only when woken */
	POOL_FOUND_RECURRING		/* a tick every naptime */
} PoolFinding;

typedef struct PoolSlot
{
	Oid			dboid;			/* InvalidOid: free */
	pid_t		pid;			/* while the worker runs */
	bool		exited;			/* the worker has come and gone */
	TimestampTz started;		/* when the launcher started it */
	TimestampTz tick_started;	/* set by the worker */
	TimestampTz tick_finished;	/* set by the worker */
	PoolFinding finding;		/* set by the worker */
} PoolSlot;

/* A database a backend asked the launcher to look at. */
typedef struct PoolWake
{
	Oid			dboid;
	bool		extension_created;	/* else: something managed changed */
	bool		seen;			/* the launcher has scheduled it */
} PoolWake;

#define POOL_WAKES	256
#define POOL_HOLDS	16

typedef struct PoolShared
{
	slock_t		mutex;
	pid_t		launcher_pid;
	TimestampTz launcher_started;

	/*
	 * Wake-ups.  An entry stays until a worker begins a tick in its database
	 * (PoolTakeWakes), so a backend that finds its database listed knows the
	 * coming tick will see its commit and does not signal again.
	 */
	int			nwakes;
	bool		wake_overflow;
	PoolWake	wakes[POOL_WAKES];

	/* databases the launcher leaves alone until a time (DROP DATABASE) */
	struct
	{
		Oid			dboid;
		TimestampTz until;
	}			holds[POOL_HOLDS];

	/* figures the launcher publishes */
	int			databases_known;	/* with the extension, or not yet visited */
	int			databases_recurring;	/* ticked every naptime */
	int64		longest_tick_ms;	/* of the last tick of each database */
	int64		workers_started;
	int64		start_failures;
	TimestampTz shortage_since; /* a start failed and none succeeded since */

	int			nslots;			/* wallet_ops.max_workers */
	PoolSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} PoolShared;

/* NULL unless the library was preloaded. */
extern PoolShared *pool_shared;

/* From _PG_init: shared memory and the hooks of the backend side. */
extern void PoolInstall(void);

/* The worker's side: its wake-ups are served from now on. */
extern void PoolTakeWakes(Oid dboid);

/*
 * A backend's side: once the current transaction commits, ask the
 * launcher to look at this database (CREATE EXTENSION, or a change to what
 * is managed or to a source of a managed view).  Cheap when nothing needs
 * saying; does nothing without the pool.
 */
extern void PoolWakeAtCommit(bool extension_created);

/* Whether the launcher must leave dboid alone now; caller holds the mutex. */
extern bool PoolHeld(Oid dboid, TimestampTz now);

#endif							/* WALLET_OPS_POOL_H */
