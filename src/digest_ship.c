/*-------------------------------------------------------------------------
 *
 * digest_ship.c
 *		Digests taken by the worker on a schedule (wallet_ops.schedule_digest)
 *		and shipped outside by wallet_ops.digest_archive_command.
 *
 * A digest is written to pg_wallet_ops/digests/ under the data directory
 * (written to a temporary name, synced, renamed) before anything else
 * happens to it; the directory is the queue.  Each tick ships a table's
 * waiting digests oldest first through the command, shaped like
 * archive_command (%p the file's path, %f its name, %t the table), run in a
 * process group of its own and killed after
 * wallet_ops.digest_archive_timeout.  A digest is removed only once the
 * command returned 0; a failure stops the table's shipping until a back-off
 * (one naptime, doubled per failure in a row, at most an hour) has passed.
 * Each attempt is recorded in job_log.  Like archive_command, the command
 * must not overwrite a file of the same name that already exists: a crash
 * between its success and the removal would otherwise ship it twice.
 *
 * This file owns wallet_ops.digest_schedule.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/digest_ship.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#if PG_VERSION_NUM >= 140000
#include "utils/wait_event.h"
#endif

#include "common.h"
#include "digest_ship.h"
#include "job_log.h"

#define DIGEST_PARENT_DIR	"pg_wallet_ops"
#define DIGEST_DIR			"pg_wallet_ops/digests"
/* a failing command is retried after naptime * 2^(failures - 1), at most */
#define DIGEST_MAX_BACKOFF_MS	(3600 * 1000L)

typedef struct DigestSchedule
{
	Interval   *every;
	TimestampTz last_taken;		/* 0: never */
	TimestampTz next_attempt;	/* 0: now */
	int64		failures;
} DigestSchedule;

List *
DigestShipScheduledTables(void)
{
	return WalletOpsOwnTableOids("digest_schedule", "relid");
}

/* Runs a statement on relid's schedule row as the extension's owner. */
static void
schedule_exec(const char *sql, Oid relid, int nargs, Oid *types, Datum *values,
			  const char *nulls, bool read_only, DigestSchedule *out)
{
	MemoryContext caller = CurrentMemoryContext;
	WalletOpsOwnerContext owner;
	Oid			argtypes[4];
	Datum		argvalues[4];
	char		argnulls[4];
	int			i;

	argtypes[0] = OIDOID;
	argvalues[0] = ObjectIdGetDatum(relid);
	argnulls[0] = ' ';
	for (i = 0; i < nargs; i++)
	{
		argtypes[i + 1] = types[i];
		argvalues[i + 1] = values[i];
		argnulls[i + 1] = nulls ? nulls[i] : ' ';
	}
	SPI_connect();
	WalletOpsOwnerBegin(&owner);
	if (SPI_execute_with_args(sql, nargs + 1, argtypes, argvalues, argnulls,
							  read_only, 1) < 0)
		elog(ERROR, "could not use wallet_ops.digest_schedule");
	if (out != NULL)
	{
		bool		isnull;
		Datum		d;

		if (SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("the digest of table with OID %u is not scheduled", relid)));
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		out->every = MemoryContextAlloc(caller, sizeof(Interval));
		memcpy(out->every, DatumGetIntervalP(d), sizeof(Interval));
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		out->last_taken = isnull ? 0 : DatumGetTimestampTz(d);
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
		out->next_attempt = isnull ? 0 : DatumGetTimestampTz(d);
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull);
		out->failures = isnull ? 0 : DatumGetInt64(d);
	}
	WalletOpsOwnerEnd(&owner);
	SPI_finish();
}

/* The table's name, reduced to characters safe in a file name and a shell. */
static char *
table_tag(Oid relid)
{
	char	   *name = psprintf("%s.%s", get_namespace_name(get_rel_namespace(relid)),
								get_rel_name(relid));
	char	   *p;

	for (p = name; *p; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '_' || *p == '.'))
			*p = '_';
	}
	return name;
}

/* Takes relid's digest and writes it durably; returns the file's name. */
static char *
take_digest(Oid relid, const char *tag, TimestampTz now)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	struct pg_tm tm;
	fsec_t		fsec;
	char	   *text;
	char	   *name;
	char	   *path;
	char	   *tmp;
	int			fd;

	values[0] = ObjectIdGetDatum(relid);
	SPI_connect();
	if (SPI_execute_with_args("SELECT wallet_ops.chain_digest($1::pg_catalog.regclass)::pg_catalog.text",
							  1, types, values, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not take the digest of table with OID %u", relid);
	text = MemoryContextStrdup(caller,
							   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();

	if (timestamp2tm(now, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "timestamp out of range");
	name = psprintf("%u_%s_%04d%02d%02dT%02d%02d%02d.%06dZ.json", relid, tag,
					tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min,
					tm.tm_sec, (int) fsec);
	path = psprintf("%s/%s", DIGEST_DIR, name);
	tmp = psprintf("%s.tmp", path);

	if (MakePGDirectory(DIGEST_PARENT_DIR) < 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", DIGEST_PARENT_DIR)));
	if (MakePGDirectory(DIGEST_DIR) < 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", DIGEST_DIR)));
	fd = OpenTransientFile(tmp, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", tmp)));
	if (write(fd, text, strlen(text)) != (ssize_t) strlen(text) ||
		write(fd, "\n", 1) != 1 || pg_fsync(fd) != 0)
	{
		int			save_errno = errno;

		CloseTransientFile(fd);
		errno = save_errno ? save_errno : ENOSPC;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", tmp)));
	}
	if (CloseTransientFile(fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close file \"%s\": %m", tmp)));
	(void) durable_rename(tmp, path, ERROR);
	return name;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The digests of relid still waiting in the directory, oldest first. */
static List *
waiting_digests(Oid relid)
{
	char	   *prefix = psprintf("%u_", relid);
	List	   *names = NIL;
	DIR		   *dir;
	struct dirent *de;
	char	  **sorted;
	int			n = 0;
	ListCell   *lc;
	List	   *result = NIL;

	dir = AllocateDir(DIGEST_DIR);
	if (dir == NULL && errno == ENOENT)
		return NIL;
	while ((de = ReadDir(dir, DIGEST_DIR)) != NULL)
	{
		size_t		len = strlen(de->d_name);

		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
			len > 5 && strcmp(de->d_name + len - 5, ".json") == 0)
			names = lappend(names, pstrdup(de->d_name));
	}
	FreeDir(dir);
	if (names == NIL)
		return NIL;
	sorted = palloc(sizeof(char *) * list_length(names));
	foreach(lc, names)
		sorted[n++] = lfirst(lc);
	qsort(sorted, n, sizeof(char *), name_cmp);
	for (int i = 0; i < n; i++)
		result = lappend(result, sorted[i]);
	return result;
}

/* The command with %p, %f, %t and %% replaced. */
static char *
archive_command_for(const char *name, const char *tag)
{
	StringInfoData cmd;
	const char *p;

	initStringInfo(&cmd);
	for (p = wallet_ops_digest_archive_command; *p; p++)
	{
		if (p[0] == '%' && p[1] != '\0')
		{
			p++;
			if (*p == 'p')
				appendStringInfo(&cmd, "%s/%s/%s", DataDir, DIGEST_DIR, name);
			else if (*p == 'f')
				appendStringInfoString(&cmd, name);
			else if (*p == 't')
				appendStringInfoString(&cmd, tag);
			else if (*p == '%')
				appendStringInfoChar(&cmd, '%');
			else
			{
				appendStringInfoChar(&cmd, '%');
				appendStringInfoChar(&cmd, *p);
			}
		}
		else
			appendStringInfoChar(&cmd, *p);
	}
	return cmd.data;
}

/*
 * Runs cmd with /bin/sh in a process group of its own; returns NULL when it
 * exited with 0, else why not.  Past timeout_s the whole group is killed.
 */
static char *
run_archive_command(const char *cmd, int timeout_s)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   (int64) timeout_s * 1000);
	pid_t		pid;
	int			status = 0;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return psprintf("could not start it: %s", strerror(errno));
	if (pid == 0)
	{
		/* the child: a group of its own, so that a timeout kills it all */
		(void) setsid();
		execl("/bin/sh", "sh", "-c", cmd, (char *) NULL);
		_exit(127);
	}
	for (;;)
	{
		pid_t		r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return psprintf("could not wait for it: %s", strerror(errno));
		if (GetCurrentTimestamp() >= deadline || InterruptPending)
		{
			(void) kill(-pid, SIGKILL);
			(void) kill(pid, SIGKILL);
			(void) waitpid(pid, &status, 0);
			CHECK_FOR_INTERRUPTS();
			return psprintf("it did not end within wallet_ops.digest_archive_timeout (%d s) and was killed",
							timeout_s);
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 50, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return NULL;
	return wait_result_to_str(status);
}

void
DigestShipRun(Oid relid, TimestampTz now, ActionReport *report)
{
	DigestSchedule sched;
	char	   *tag;
	char	   *table;
	List	   *waiting;
	ListCell   *lc;
	TimestampTz due;

	if (get_rel_name(relid) == NULL)
		return;					/* dropped: the event trigger removes the row */
	schedule_exec("SELECT every, last_taken, next_attempt, failures"
				  "  FROM wallet_ops.digest_schedule"
				  " WHERE relid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
				  relid, 0, NULL, NULL, NULL, true, &sched);
	tag = table_tag(relid);
	table = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									   get_rel_name(relid));

	due = sched.last_taken == 0 ? now :
		DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
												TimestampTzGetDatum(sched.last_taken),
												IntervalPGetDatum(sched.every)));
	if (due <= now)
	{
		char	   *name = take_digest(relid, tag, now);
		Oid			types[1] = {TIMESTAMPTZOID};
		Datum		values[1];

		values[0] = TimestampTzGetDatum(now);
		schedule_exec("UPDATE wallet_ops.digest_schedule SET last_taken = $2"
					  " WHERE relid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
					  relid, 1, types, values, NULL, false, NULL);
		JobLogRecord(now, table, "digest", "take", JOB_OK,
					 psprintf("digest written to %s/%s", DIGEST_DIR, name), NULL);
		ActionReportAdd(report, table, "take digest", name);
	}

	/* shipping: not without a command, not before the back-off is over */
	if (wallet_ops_digest_archive_command == NULL ||
		wallet_ops_digest_archive_command[0] == '\0' ||
		(sched.next_attempt != 0 && sched.next_attempt > now))
		return;

	waiting = waiting_digests(relid);
	foreach(lc, waiting)
	{
		char	   *name = lfirst(lc);
		TimestampTz started = GetCurrentTimestamp();
		char	   *why;

		CHECK_FOR_INTERRUPTS();
		pgstat_report_activity(STATE_RUNNING, "wallet_ops: shipping a digest");
		why = run_archive_command(archive_command_for(name, tag),
								  wallet_ops_digest_archive_timeout);
		if (why == NULL)
		{
			char	   *path = psprintf("%s/%s", DIGEST_DIR, name);
			Oid			types[2] = {TIMESTAMPTZOID, TEXTOID};
			Datum		values[2];

			/* shipped: only now may the local copy go */
			if (unlink(path) != 0 && errno != ENOENT)
				ereport(WARNING,
						(errcode_for_file_access(),
						 errmsg("could not remove shipped digest \"%s\": %m", path)));
			values[0] = TimestampTzGetDatum(GetCurrentTimestamp());
			values[1] = CStringGetTextDatum(name);
			schedule_exec("UPDATE wallet_ops.digest_schedule"
						  "   SET last_shipped = $2, last_file = $3, failures = 0,"
						  "       last_error = NULL, next_attempt = NULL"
						  " WHERE relid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
						  relid, 2, types, values, NULL, false, NULL);
			JobLogRecord(started, table, "digest", "ship", JOB_OK, name, NULL);
			ActionReportAdd(report, table, "ship digest", name);
		}
		else
		{
			int64		failures = sched.failures + 1;
			int64		backoff = Min((int64) wallet_ops_naptime * 1000 << Min(failures - 1, 20),
									  DIGEST_MAX_BACKOFF_MS);
			char	   *detail = psprintf("%s: wallet_ops.digest_archive_command %s", name, why);
			Oid			types[2] = {TIMESTAMPTZOID, TEXTOID};
			Datum		values[2];

			values[0] = TimestampTzGetDatum(TimestampTzPlusMilliseconds(GetCurrentTimestamp(), backoff));
			values[1] = CStringGetTextDatum(detail);
			schedule_exec("UPDATE wallet_ops.digest_schedule"
						  "   SET failures = failures + 1, next_attempt = $2, last_error = $3"
						  " WHERE relid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
						  relid, 2, types, values, NULL, false, NULL);
			ereport(LOG,
					(errmsg("wallet_ops: could not ship the digest of table %s", table),
					 errdetail_internal("%s", detail),
					 errhint("The digest stays in %s and is tried again after %lld s.",
							 DIGEST_DIR, (long long) (backoff / 1000))));
			JobLogRecord(started, table, "digest", "ship", JOB_ERROR, detail, NULL);
			ActionReportAdd(report, table, "ship digest failed", detail);
			break;
		}
	}
}
