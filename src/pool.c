/*-------------------------------------------------------------------------
 *
 * pool.c
 *		The shared state of the worker pool, and what backends do with it:
 *		wake the launcher when a database has something new to maintain,
 *		keep the launcher away from a database being dropped, and report
 *		the pool's figures to health() and metrics().
 *
 * The launcher and the workers themselves are in worker.c.  A backend
 * never waits for them: it writes a few words under a spinlock and sends
 * the launcher a signal, at most once per tick of its database.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/pool.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_database.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "common.h"
#include "pool.h"

PG_FUNCTION_INFO_V1(wallet_ops_worker_notify);
PG_FUNCTION_INFO_V1(wallet_ops_worker_wake);
PG_FUNCTION_INFO_V1(wallet_ops_worker_pool);

/* After DROP DATABASE stopped a worker, its database is left alone so long. */
#define HOLD_AFTER_DROP_MS	10000

PoolShared *pool_shared = NULL;

#if PG_VERSION_NUM >= 150000
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static object_access_hook_type prev_object_access_hook = NULL;

/* Wake-up to send when the current transaction commits. */
static bool wake_at_commit = false;
static bool wake_extension_created = false;
static bool xact_callback_registered = false;

static void pool_shmem_request(void);
static void pool_shmem_startup(void);
static void pool_object_access(ObjectAccessType access, Oid classId,
							   Oid objectId, int subId, void *arg);
static void pool_xact_callback(XactEvent event, void *arg);

static Size
pool_shmem_size(void)
{
	return add_size(offsetof(PoolShared, slots),
					mul_size(sizeof(PoolSlot), wallet_ops_max_workers));
}

void
PoolInstall(void)
{
#if PG_VERSION_NUM >= 150000
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = pool_shmem_request;
#else
	pool_shmem_request();
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = pool_shmem_startup;
	prev_object_access_hook = object_access_hook;
	object_access_hook = pool_object_access;
}

static void
pool_shmem_request(void)
{
#if PG_VERSION_NUM >= 150000
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
#endif
	RequestAddinShmemSpace(MAXALIGN(pool_shmem_size()));
}

static void
pool_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	pool_shared = ShmemInitStruct("wallet_ops worker pool", pool_shmem_size(), &found);
	if (!found)
	{
		memset(pool_shared, 0, pool_shmem_size());
		SpinLockInit(&pool_shared->mutex);
		pool_shared->nslots = wallet_ops_max_workers;
	}
	LWLockRelease(AddinShmemInitLock);
}

bool
PoolHeld(Oid dboid, TimestampTz now)
{
	int			i;

	for (i = 0; i < POOL_HOLDS; i++)
	{
		if (pool_shared->holds[i].dboid == dboid && pool_shared->holds[i].until > now)
			return true;
	}
	return false;
}

/*
 * DROP DATABASE refuses to run while another session is connected: stop a
 * worker there and keep the launcher away for a while.
 */
static void
pool_object_access(ObjectAccessType access, Oid classId, Oid objectId,
				   int subId, void *arg)
{
	TimestampTz now;
	int			i;
	int			hold = 0;
	pid_t		pid = 0;

	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

	if (access != OAT_DROP || classId != DatabaseRelationId || pool_shared == NULL)
		return;

	now = GetCurrentTimestamp();
	SpinLockAcquire(&pool_shared->mutex);
	for (i = 0; i < POOL_HOLDS; i++)
	{
		/* reuse this database's entry, else the one that expires first */
		if (pool_shared->holds[i].dboid == objectId)
		{
			hold = i;
			break;
		}
		if (pool_shared->holds[i].until < pool_shared->holds[hold].until)
			hold = i;
	}
	pool_shared->holds[hold].dboid = objectId;
	pool_shared->holds[hold].until = TimestampTzPlusMilliseconds(now, HOLD_AFTER_DROP_MS);
	for (i = 0; i < pool_shared->nslots; i++)
	{
		if (pool_shared->slots[i].dboid == objectId)
			pid = pool_shared->slots[i].pid;
	}
	SpinLockRelease(&pool_shared->mutex);
	if (pid > 0)
		(void) kill(pid, SIGTERM);
}

void
PoolWakeAtCommit(bool extension_created)
{
	if (pool_shared == NULL)
		return;
	if (!xact_callback_registered)
	{
		RegisterXactCallback(pool_xact_callback, NULL);
		xact_callback_registered = true;
	}
	wake_at_commit = true;
	wake_extension_created |= extension_created;
}

static void
pool_xact_callback(XactEvent event, void *arg)
{
	bool		extension_created = wake_extension_created;
	bool		signal = false;
	pid_t		launcher = 0;
	int			i;

	if (!wake_at_commit)
		return;
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_PARALLEL_COMMIT &&
		event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_ABORT)
		return;
	wake_at_commit = false;
	wake_extension_created = false;
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		return;

	/*
	 * Committed, and visible to every snapshot taken from now on: a worker
	 * that has not yet taken this database's wake-ups will see the change.
	 */
	SpinLockAcquire(&pool_shared->mutex);
	for (i = 0; i < pool_shared->nwakes; i++)
	{
		if (pool_shared->wakes[i].dboid == MyDatabaseId)
			break;
	}
	if (i < pool_shared->nwakes)
	{
		if (extension_created && !pool_shared->wakes[i].extension_created)
		{
			pool_shared->wakes[i].extension_created = true;
			pool_shared->wakes[i].seen = false;
			signal = true;
		}
	}
	else if (pool_shared->nwakes < POOL_WAKES)
	{
		pool_shared->wakes[i].dboid = MyDatabaseId;
		pool_shared->wakes[i].extension_created = extension_created;
		pool_shared->wakes[i].seen = false;
		pool_shared->nwakes++;
		signal = true;
	}
	else if (!pool_shared->wake_overflow)
	{
		/* the launcher then looks at every database */
		pool_shared->wake_overflow = true;
		signal = true;
	}
	launcher = pool_shared->launcher_pid;
	SpinLockRelease(&pool_shared->mutex);

	/* a background worker's SIGUSR1 handler sets its latch */
	if (signal && launcher > 0)
		(void) kill(launcher, SIGUSR1);
}

void
PoolTakeWakes(Oid dboid)
{
	int			i = 0;

	SpinLockAcquire(&pool_shared->mutex);
	while (i < pool_shared->nwakes)
	{
		if (pool_shared->wakes[i].dboid == dboid)
			pool_shared->wakes[i] = pool_shared->wakes[--pool_shared->nwakes];
		else
			i++;
	}
	SpinLockRelease(&pool_shared->mutex);
}

/*
 * wallet_ops._worker_notify(), called by the install script: once CREATE
 * EXTENSION commits, the launcher schedules this database.
 */
Datum
wallet_ops_worker_notify(PG_FUNCTION_ARGS)
{
	PoolWakeAtCommit(true);
	PG_RETURN_VOID();
}

/*
 * wallet_ops._worker_wake(): what is managed here changed; once that
 * commits, the launcher makes sure this database gets ticks.
 */
Datum
wallet_ops_worker_wake(PG_FUNCTION_ARGS)
{
	PoolWakeAtCommit(false);
	PG_RETURN_VOID();
}

/*
 * wallet_ops._worker_pool(): the pool as the launcher last published it;
 * all NULL when the library was not preloaded.
 */
Datum
wallet_ops_worker_pool(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[10];
	bool		nulls[10];
	PoolShared	copy;
	int			running = 0;
	int			i;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	memset(nulls, 0, sizeof(nulls));
	if (pool_shared == NULL)
	{
		memset(nulls, true, sizeof(nulls));
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
	}

	SpinLockAcquire(&pool_shared->mutex);
	memcpy(&copy, pool_shared, offsetof(PoolShared, slots));
	for (i = 0; i < pool_shared->nslots; i++)
	{
		if (pool_shared->slots[i].pid > 0)
			running++;
	}
	SpinLockRelease(&pool_shared->mutex);

	values[0] = Int32GetDatum(copy.nslots);
	values[1] = Int32GetDatum(running);
	values[2] = Int32GetDatum((int32) copy.launcher_pid);
	nulls[2] = (copy.launcher_pid == 0);
	values[3] = Int32GetDatum(copy.databases_known);
	values[4] = Int32GetDatum(copy.databases_recurring);
	values[5] = Float8GetDatum((double) copy.longest_tick_ms / 1000.0);
	values[6] = Int64GetDatum(copy.workers_started);
	values[7] = Int64GetDatum(copy.start_failures);
	values[8] = TimestampTzGetDatum(copy.shortage_since);
	nulls[8] = (copy.shortage_since == 0);
	values[9] = TimestampTzGetDatum(copy.launcher_started);
	nulls[9] = (copy.launcher_pid == 0);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
