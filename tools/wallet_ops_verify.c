/*-------------------------------------------------------------------------
 *
 * wallet_ops_verify.c
 *		Recompute a hash-chained table's hashes outside the server.
 *
 * An ordinary libpq client.  It reads the table's configuration from
 * wallet_ops.hash_chains, streams the rows through a cursor in binary
 * result format, ordered by the chain key columns and chain_seq, and
 * recomputes every row hash and every link itself from the byte format of
 * docs/hash-format.md, without trusting any hash the server computes.
 * Each chain's last row is compared with its recorded head
 * (wallet_ops.chain_heads), and with --digest, with what a digest saved
 * from wallet_ops.chain_digest() attested.
 *
 * Problems are named as wallet_ops.verify_chain() names them.  Memory is
 * bounded by the fetch batch plus a small entry per chain for the recorded
 * heads (and the digest's chains); it does not grow with the number of rows.
 *
 * Exit status: 0 intact, 1 problems found, 2 could not check.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  tools/wallet_ops_verify.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "libpq-fe.h"

#include "chain_format.h"

/* the Makefile passes the extension's version */
#ifndef WALLET_OPS_VERSION
#define WALLET_OPS_VERSION	"1.1.0"
#endif

#define EXIT_INTACT		0
#define EXIT_PROBLEMS	1
#define EXIT_CANNOT		2

/* inet's binary family codes (PGSQL_AF_INET, PGSQL_AF_INET6) */
#define PGSQL_AF_INET	2
#define PGSQL_AF_INET6	3

static const char *progname;
static PGconn *conn;
static bool quiet = false;

static void pg_error(const char *fmt,...) __attribute__((format(printf, 1, 2)));
static void pg_detail(const char *fmt,...) __attribute__((format(printf, 1, 2)));
static void usage(void);
static bool help_asked(int argc, char **argv);
static void problem(const char *chain, bool has_seq, int64_t seq, const char *what,
					const char *fmt,...) __attribute__((format(printf, 5, 6)));

/* ---- messages and allocation ------------------------------------------ */

static void
pg_error(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "%s: error: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
pg_detail(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "%s: detail: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Could not check: say why and leave with status 2. */
static void
cannot_check(void)
{
	if (conn)
		PQfinish(conn);
	exit(EXIT_CANNOT);
}

static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (p == NULL)
	{
		pg_error("out of memory");
		cannot_check();
	}
	return p;
}

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
	{
		pg_error("out of memory");
		cannot_check();
	}
	return p;
}

static char *
xstrdup(const char *s)
{
	size_t		n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

/* ---- a growable byte buffer --------------------------------------------- */

typedef struct Buf
{
	unsigned char *data;
	size_t		len;
	size_t		cap;
} Buf;

static void
buf_reserve(Buf *b, size_t more)
{
	if (b->len + more > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 1024;

		while (cap < b->len + more)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
}

static void
buf_put(Buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void
buf_u8(Buf *b, unsigned v)
{
	unsigned char c = (unsigned char) v;

	buf_put(b, &c, 1);
}

static void
buf_u32(Buf *b, uint32_t v)
{
	unsigned char c[4] = {v >> 24, v >> 16, v >> 8, v};

	buf_put(b, c, 4);
}

static void
buf_i64(Buf *b, int64_t v)
{
	uint64_t	u = (uint64_t) v;
	unsigned char c[8];
	int			i;

	for (i = 7; i >= 0; i--)
	{
		c[i] = u & 0xFF;
		u >>= 8;
	}
	buf_put(b, c, 8);
}

/* bytes(s) = u32(length) || s */
static void
buf_bytes(Buf *b, const void *p, size_t n)
{
	buf_u32(b, (uint32_t) n);
	buf_put(b, p, n);
}

static uint32_t
get_u32(const unsigned char *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | p[3];
}

static int64_t
get_i64(const unsigned char *p)
{
	uint64_t	u = 0;
	int			i;

	for (i = 0; i < 8; i++)
		u = (u << 8) | p[i];
	return (int64_t) u;
}

static void
sha256(const unsigned char *data, size_t len, unsigned char *out)
{
	unsigned int outlen = 0;

	if (EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL) != 1 ||
		outlen != CHAIN_HASH_LEN)
	{
		pg_error("could not compute a SHA-256 digest with OpenSSL");
		cannot_check();
	}
}

static void
hex(const unsigned char *h, char *out)
{
	static const char digits[] = "0123456789abcdef";
	int			i;

	for (i = 0; i < CHAIN_HASH_LEN; i++)
	{
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 0xF];
	}
	out[2 * CHAIN_HASH_LEN] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
unhex(const char *s, unsigned char *out)
{
	int			i;

	if (s == NULL || strlen(s) != 2 * CHAIN_HASH_LEN)
		return false;
	for (i = 0; i < CHAIN_HASH_LEN; i++)
	{
		int			hi = hexval(s[2 * i]),
					lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char) ((hi << 4) | lo);
	}
	return true;
}

/*
 * n bytes (a multiple of CHAIN_HASH_LEN) written as 2n hexadecimal digits;
 * s is exactly that long.
 */
static bool
unhex_n(const char *s, unsigned char *out, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i += CHAIN_HASH_LEN)
	{
		char		part[2 * CHAIN_HASH_LEN + 1];

		memcpy(part, s + 2 * i, 2 * CHAIN_HASH_LEN);
		part[2 * CHAIN_HASH_LEN] = '\0';
		if (!unhex(part, out + i))
			return false;
	}
	return true;
}

/* ---- queries ------------------------------------------------------------ */

/* Report a failed query with the server's message; leave with status 2. */
static void
query_failed(const char *what, PGresult *res)
{
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);

	if (primary)
	{
		pg_error("could not %s: %s", what, primary);
		if (detail)
			pg_detail("%s", detail);
		if (hint)
			fprintf(stderr, "%s: hint: %s\n", progname, hint);
	}
	else
	{
		const char *m = PQerrorMessage(conn);
		size_t		len = strlen(m);

		while (len > 0 && m[len - 1] == '\n')
			len--;
		pg_error("could not %s: %.*s", what, (int) len, m);
	}
	PQclear(res);
	cannot_check();
}

/*
 * Run a query with text parameters; on failure say what could not be done,
 * with the server's message, and leave with status 2.
 */
static PGresult *
run(const char *what, const char *sql, int nparams, const char *const *params,
	int resultformat)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL,
								   resultformat);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
		query_failed(what, res);
	return res;
}

/* ---- column types --------------------------------------------------------- */

typedef struct Column
{
	char	   *name;
	char	   *typname;		/* format_type() of the declared type */
	uint32_t	typid;			/* declared */
	uint32_t	base;			/* domains resolved */
	char		tag;
	bool		is_cidr;
	uint32_t	elembase;		/* arrays: element type, domains resolved */
	char		elemtag;
	bool		elem_is_cidr;
} Column;

/*
 * The tag of a (non-array) base type, or 0 when the format cannot encode
 * it: chain_format.h's table, the one the server reads as well.
 */
static char
scalar_tag(uint32_t base, bool *is_cidr)
{
	const ChainFormatType *t = chain_format_type(base);

	*is_cidr = t != NULL && t->is_cidr;
	return t != NULL ? t->tag : 0;
}

/* Resolve domains; returns the base type, its element type and typlen. */
static uint32_t
resolve_base(uint32_t typid, uint32_t *elem, int *typlen)
{
	char		oid[16];
	const char *params[1] = {oid};
	PGresult   *res;
	uint32_t	base;

	snprintf(oid, sizeof(oid), "%u", typid);
	res = run("resolve a column type",
			  "WITH RECURSIVE t(oid, typtype, typbasetype, typelem, typlen, depth) AS ("
			  " SELECT oid, typtype, typbasetype, typelem, typlen, 0"
			  "   FROM pg_catalog.pg_type WHERE oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid"
			  " UNION ALL"
			  " SELECT p.oid, p.typtype, p.typbasetype, p.typelem, p.typlen, t.depth + 1"
			  "   FROM pg_catalog.pg_type p JOIN t ON p.oid OPERATOR(pg_catalog.=) t.typbasetype"
			  "  WHERE t.typtype OPERATOR(pg_catalog.=) 'd' AND t.depth < 100)"
			  " SELECT oid, typelem, typlen FROM t"
			  "  WHERE typtype OPERATOR(pg_catalog.<>) 'd'",
			  1, params, 0);
	if (PQntuples(res) != 1)
	{
		pg_error("could not resolve type %u", typid);
		cannot_check();
	}
	base = (uint32_t) strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	*elem = (uint32_t) strtoul(PQgetvalue(res, 0, 1), NULL, 10);
	*typlen = atoi(PQgetvalue(res, 0, 2));
	PQclear(res);
	return base;
}

static void
column_init(Column *col, const char *name, uint32_t typid, const char *table)
{
	uint32_t	elem;
	int			typlen;

	col->name = xstrdup(name);
	col->typid = typid;
	col->base = resolve_base(typid, &elem, &typlen);
	col->tag = scalar_tag(col->base, &col->is_cidr);
	if (col->tag == 0 && elem != 0 && typlen == -1)
	{
		uint32_t	e2;
		int			l2;

		col->elembase = resolve_base(elem, &e2, &l2);
		col->elemtag = scalar_tag(col->elembase, &col->elem_is_cidr);
		if (col->elemtag != 0)
			col->tag = CHAIN_TAG_ARRAY;
	}
	if (col->tag == 0)
	{
		pg_error("column \"%s\" of table %s has type %u, which the hash format cannot encode",
				 name, table, typid);
		cannot_check();
	}
}

/* ---- canonical encoding (docs/hash-format.md) -------------------------- */

static const char *encode_error;

/*
 * Append bytes(canonical) of one non-NULL value, given in its binary send
 * format.  Returns false (with encode_error set) on malformed input.
 */
static bool
encode_canonical(Buf *b, char tag, uint32_t base, bool is_cidr,
				 const unsigned char *v, int len)
{
	switch (tag)
	{
		case CHAIN_TAG_BOOL:
			if (len != 1)
				break;
			buf_u32(b, 1);
			buf_u8(b, v[0] ? 1 : 0);
			return true;
		case CHAIN_TAG_INT:
			{
				int64_t		x;

				if (base == CHAIN_INT2OID && len == 2)
					x = (int16_t) ((v[0] << 8) | v[1]);
				else if (base == CHAIN_INT4OID && len == 4)
					x = (int32_t) get_u32(v);
				else if (base == CHAIN_INT8OID && len == 8)
					x = get_i64(v);
				else
					break;
				buf_u32(b, 8);
				buf_i64(b, x);
				return true;
			}
		case CHAIN_TAG_FLOAT:
			{
				double		d;
				int64_t		bits;

				if (base == CHAIN_FLOAT4OID && len == 4)
				{
					uint32_t	u = get_u32(v);
					float		f;

					memcpy(&f, &u, 4);
					d = (double) f;
				}
				else if (base == CHAIN_FLOAT8OID && len == 8)
				{
					int64_t		u = get_i64(v);

					memcpy(&d, &u, 8);
				}
				else
					break;
				if (d != d)
					bits = INT64_C(0x7FF8000000000000);
				else
					memcpy(&bits, &d, 8);
				buf_u32(b, 8);
				buf_i64(b, bits);
				return true;
			}
		case CHAIN_TAG_NUMERIC:				/* selected as text */
		case CHAIN_TAG_TEXT:
		case CHAIN_TAG_JSON:
		case CHAIN_TAG_BYTEA:
			buf_bytes(b, v, len);
			return true;
		case CHAIN_TAG_JSONB:
			if (len < 1 || v[0] != 1)
			{
				encode_error = "unsupported jsonb binary format version";
				return false;
			}
			buf_bytes(b, v + 1, len - 1);
			return true;
		case CHAIN_TAG_UUID:
			if (len != 16)
				break;
			buf_bytes(b, v, 16);
			return true;
		case CHAIN_TAG_TIMESTAMPTZ:
		case CHAIN_TAG_TIMESTAMP:
			if (len != 8)
				break;
			buf_bytes(b, v, 8);
			return true;
		case CHAIN_TAG_DATE:
			if (len != 4)
				break;
			buf_bytes(b, v, 4);
			return true;
		case CHAIN_TAG_INTERVAL:
			/* time int64, day int32, month int32: the canonical order */
			if (len != 16)
				break;
			buf_bytes(b, v, 16);
			return true;
		case CHAIN_TAG_INET:
			{
				int			fam,
							nb;

				if (len < 4)
					break;
				fam = v[0] == PGSQL_AF_INET ? CHAIN_INET_V4 : v[0] == PGSQL_AF_INET6 ? CHAIN_INET_V6 : 0;
				nb = v[3];
				if (fam == 0 || nb != (fam == CHAIN_INET_V4 ? 4 : 16) || len != 4 + nb)
					break;
				buf_u32(b, 3 + nb);
				buf_u8(b, fam);
				buf_u8(b, v[1]);
				buf_u8(b, is_cidr ? 1 : 0);
				buf_put(b, v + 4, nb);
				return true;
			}
	}
	encode_error = "malformed binary value";
	return false;
}

static bool
encode_array(Buf *b, const Column *col, const unsigned char *v, int len)
{
	size_t		lenpos;
	uint32_t	ndim;
	int64_t		nelems = 1;
	const unsigned char *p = v,
			   *end = v + len;
	uint32_t	i;

	if (len < 12)
		goto bad;
	ndim = get_u32(p);
	p += 12;					/* ndim, has-nulls flag, element type */
	if (ndim > 6 || end - p < (ptrdiff_t) (8 * ndim))
		goto bad;
	lenpos = b->len;
	buf_u32(b, 0);
	buf_u8(b, (unsigned char) col->elemtag);
	buf_u32(b, ndim);
	for (i = 0; i < ndim; i++)
	{
		uint32_t	dim = get_u32(p);

		buf_put(b, p, 8);		/* i32(length) || i32(lower bound) */
		nelems *= dim;
		p += 8;
	}
	if (ndim == 0)
		nelems = 0;
	while (nelems-- > 0)
	{
		int32_t		elen;

		if (end - p < 4)
			goto bad;
		elen = (int32_t) get_u32(p);
		p += 4;
		if (elen == -1)
		{
			buf_u8(b, CHAIN_FIELD_NULL);
			continue;
		}
		if (elen < 0 || end - p < elen)
			goto bad;
		buf_u8(b, CHAIN_FIELD_VALUE);
		if (!encode_canonical(b, col->elemtag, col->elembase, col->elem_is_cidr, p, elen))
			return false;
		p += elen;
	}
	if (p != end)
		goto bad;
	{
		uint32_t	n = (uint32_t) (b->len - lenpos - 4);
		unsigned char *q = b->data + lenpos;

		q[0] = n >> 24;
		q[1] = n >> 16;
		q[2] = n >> 8;
		q[3] = n;
	}
	return true;
bad:
	encode_error = "malformed binary array";
	return false;
}

/* field = u8(tag) || u8(0)  |  u8(tag) || u8(1) || bytes(canonical) */
static bool
encode_field(Buf *b, const Column *col, const PGresult *res, int row, int fno)
{
	buf_u8(b, (unsigned char) col->tag);
	if (PQgetisnull(res, row, fno))
	{
		buf_u8(b, CHAIN_FIELD_NULL);
		return true;
	}
	buf_u8(b, CHAIN_FIELD_VALUE);
	if (col->tag == CHAIN_TAG_ARRAY)
		return encode_array(b, col, (const unsigned char *) PQgetvalue(res, row, fno),
							PQgetlength(res, row, fno));
	return encode_canonical(b, col->tag, col->base, col->is_cidr,
							(const unsigned char *) PQgetvalue(res, row, fno),
							PQgetlength(res, row, fno));
}

/* ---- chains known from the heads and the digest --------------------------- */

typedef struct Known
{
	char	   *name;
	struct Known *next;
	bool		has_head;
	int64_t		head_seq;
	unsigned char head_hash[CHAIN_HASH_LEN];
	bool		attested;
	int64_t		att_seq;
	unsigned char att_hash[CHAIN_HASH_LEN];
	bool		visited;		/* the chain had rows */
} Known;

static Known **known_tab;
static size_t known_size;
static size_t known_count;

static uint32_t
name_hash(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 16777619u;
	return h;
}

static Known *
known_get(const char *name, bool create)
{
	Known	   *k;
	uint32_t	h;

	if (known_tab == NULL)
	{
		known_size = 1024;
		known_tab = calloc(known_size, sizeof(Known *));
		if (known_tab == NULL)
		{
			pg_error("out of memory");
			cannot_check();
		}
	}
	h = name_hash(name);
	for (k = known_tab[h % known_size]; k; k = k->next)
		if (strcmp(k->name, name) == 0)
			return k;
	if (!create)
		return NULL;
	if (known_count >= known_size * 2)
	{
		size_t		nsize = known_size * 4;
		Known	  **ntab = calloc(nsize, sizeof(Known *));
		size_t		i;

		if (ntab == NULL)
		{
			pg_error("out of memory");
			cannot_check();
		}
		for (i = 0; i < known_size; i++)
			while (known_tab[i])
			{
				Known	   *e = known_tab[i];

				known_tab[i] = e->next;
				e->next = ntab[name_hash(e->name) % nsize];
				ntab[name_hash(e->name) % nsize] = e;
			}
		free(known_tab);
		known_tab = ntab;
		known_size = nsize;
	}
	k = xmalloc(sizeof(Known));
	memset(k, 0, sizeof(Known));
	k->name = xstrdup(name);
	k->next = known_tab[h % known_size];
	known_tab[h % known_size] = k;
	known_count++;
	return k;
}

static int
known_cmp(const void *a, const void *b)
{
	return strcmp((*(Known *const *) a)->name, (*(Known *const *) b)->name);
}

/* ---- problems --------------------------------------------------------------- */

static int64_t nproblems = 0;

static void
print_name(FILE *f, const char *s)
{
	if (s == NULL)
	{
		fputs("(null key)", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7F)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/*
 * One line per problem on stdout:
 *	 <problem>: chain "<chain_key>" chain_seq <n>: <detail>
 */
static void
problem(const char *chain, bool has_seq, int64_t seq, const char *what,
		const char *fmt,...)
{
	va_list		ap;

	nproblems++;
	printf("%s: chain ", what);
	print_name(stdout, chain);
	if (has_seq)
		printf(" chain_seq %" PRId64 ": ", seq);
	else
		printf(" chain_seq -: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* ---- the digest file: a small reader for its fixed shape ----------------- */

typedef enum
{
	J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ
} JType;

typedef struct JVal
{
	JType		type;
	char	   *str;			/* J_STR: the string, J_NUM: the literal */
	int			n;				/* J_ARR, J_OBJ: number of members */
	char	  **keys;			/* J_OBJ */
	struct JVal **vals;
} JVal;

typedef struct JParser
{
	const char *p;
	const char *end;
	const char *err;
} JParser;

static void
j_ws(JParser *jp)
{
	while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' ||
							   *jp->p == '\n' || *jp->p == '\r'))
		jp->p++;
}

static void
utf8_put(Buf *b, uint32_t c)
{
	if (c < 0x80)
		buf_u8(b, c);
	else if (c < 0x800)
	{
		buf_u8(b, 0xC0 | (c >> 6));
		buf_u8(b, 0x80 | (c & 0x3F));
	}
	else if (c < 0x10000)
	{
		buf_u8(b, 0xE0 | (c >> 12));
		buf_u8(b, 0x80 | ((c >> 6) & 0x3F));
		buf_u8(b, 0x80 | (c & 0x3F));
	}
	else
	{
		buf_u8(b, 0xF0 | (c >> 18));
		buf_u8(b, 0x80 | ((c >> 12) & 0x3F));
		buf_u8(b, 0x80 | ((c >> 6) & 0x3F));
		buf_u8(b, 0x80 | (c & 0x3F));
	}
}

static char *
j_string(JParser *jp)
{
	Buf			b = {0};

	jp->p++;					/* opening quote */
	while (jp->p < jp->end && *jp->p != '"')
	{
		if (*jp->p != '\\')
		{
			buf_u8(&b, (unsigned char) *jp->p++);
			continue;
		}
		if (++jp->p >= jp->end)
			break;
		switch (*jp->p++)
		{
			case '"':
				buf_u8(&b, '"');
				break;
			case '\\':
				buf_u8(&b, '\\');
				break;
			case '/':
				buf_u8(&b, '/');
				break;
			case 'b':
				buf_u8(&b, '\b');
				break;
			case 'f':
				buf_u8(&b, '\f');
				break;
			case 'n':
				buf_u8(&b, '\n');
				break;
			case 'r':
				buf_u8(&b, '\r');
				break;
			case 't':
				buf_u8(&b, '\t');
				break;
			case 'u':
				{
					uint32_t	c = 0;
					int			i;

					for (i = 0; i < 4; i++)
					{
						int			h = jp->p < jp->end ? hexval(*jp->p++) : -1;

						if (h < 0)
						{
							jp->err = "invalid \\u escape";
							free(b.data);
							return NULL;
						}
						c = (c << 4) | h;
					}
					if (c >= 0xD800 && c < 0xDC00 && jp->end - jp->p >= 6 &&
						jp->p[0] == '\\' && jp->p[1] == 'u')
					{
						uint32_t	lo = 0;

						for (i = 2; i < 6; i++)
						{
							int			h = hexval(jp->p[i]);

							if (h < 0)
								break;
							lo = (lo << 4) | h;
						}
						if (i == 6 && lo >= 0xDC00 && lo < 0xE000)
						{
							c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
							jp->p += 6;
						}
					}
					if (c == 0)
					{
						jp->err = "\\u0000 in a string";
						free(b.data);
						return NULL;
					}
					utf8_put(&b, c);
					break;
				}
			default:
				jp->err = "invalid escape in a string";
				free(b.data);
				return NULL;
		}
	}
	if (jp->p >= jp->end)
	{
		jp->err = "unterminated string";
		free(b.data);
		return NULL;
	}
	jp->p++;
	buf_u8(&b, 0);
	return (char *) b.data;
}

static JVal *
j_value(JParser *jp, int depth)
{
	JVal	   *v;

	j_ws(jp);
	if (jp->p >= jp->end)
	{
		jp->err = "unexpected end of input";
		return NULL;
	}
	if (depth > 64)
	{
		jp->err = "nested too deep";
		return NULL;
	}
	v = xmalloc(sizeof(JVal));
	memset(v, 0, sizeof(JVal));
	if (*jp->p == '{' || *jp->p == '[')
	{
		bool		obj = *jp->p == '{';
		char		close = obj ? '}' : ']';

		v->type = obj ? J_OBJ : J_ARR;
		jp->p++;
		j_ws(jp);
		if (jp->p < jp->end && *jp->p == close)
		{
			jp->p++;
			return v;
		}
		for (;;)
		{
			char	   *key = NULL;
			JVal	   *m;

			j_ws(jp);
			if (obj)
			{
				if (jp->p >= jp->end || *jp->p != '"')
				{
					jp->err = "expected a key";
					return NULL;
				}
				if ((key = j_string(jp)) == NULL)
					return NULL;
				j_ws(jp);
				if (jp->p >= jp->end || *jp->p != ':')
				{
					jp->err = "expected \":\"";
					return NULL;
				}
				jp->p++;
			}
			if ((m = j_value(jp, depth + 1)) == NULL)
				return NULL;
			v->vals = xrealloc(v->vals, sizeof(JVal *) * (v->n + 1));
			v->keys = xrealloc(v->keys, sizeof(char *) * (v->n + 1));
			v->vals[v->n] = m;
			v->keys[v->n] = key;
			v->n++;
			j_ws(jp);
			if (jp->p < jp->end && *jp->p == ',')
			{
				jp->p++;
				continue;
			}
			if (jp->p < jp->end && *jp->p == close)
			{
				jp->p++;
				return v;
			}
			jp->err = obj ? "expected \",\" or \"}\"" : "expected \",\" or \"]\"";
			return NULL;
		}
	}
	if (*jp->p == '"')
	{
		v->type = J_STR;
		if ((v->str = j_string(jp)) == NULL)
			return NULL;
		return v;
	}
	if (*jp->p == '-' || isdigit((unsigned char) *jp->p))
	{
		const char *s = jp->p;

		while (jp->p < jp->end && (isdigit((unsigned char) *jp->p) || *jp->p == '-' ||
								   *jp->p == '+' || *jp->p == '.' || *jp->p == 'e' ||
								   *jp->p == 'E'))
			jp->p++;
		v->type = J_NUM;
		v->str = xmalloc(jp->p - s + 1);
		memcpy(v->str, s, jp->p - s);
		v->str[jp->p - s] = '\0';
		return v;
	}
	if (jp->end - jp->p >= 4 && strncmp(jp->p, "null", 4) == 0)
	{
		v->type = J_NULL;
		jp->p += 4;
		return v;
	}
	if (jp->end - jp->p >= 4 && strncmp(jp->p, "true", 4) == 0)
	{
		v->type = J_BOOL;
		jp->p += 4;
		return v;
	}
	if (jp->end - jp->p >= 5 && strncmp(jp->p, "false", 5) == 0)
	{
		v->type = J_BOOL;
		jp->p += 5;
		return v;
	}
	jp->err = "unexpected character";
	return NULL;
}

static JVal *
j_member(const JVal *obj, const char *key)
{
	int			i;
	JVal	   *found = NULL;

	if (obj == NULL || obj->type != J_OBJ)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			found = obj->vals[i];	/* the last one wins, as in jsonb */
	return found;
}

static const char *
j_text(const JVal *obj, const char *key)
{
	JVal	   *v = j_member(obj, key);

	if (v == NULL || (v->type != J_STR && v->type != J_NUM))
		return NULL;
	return v->str;
}

/* Digest leaf and Merkle root (docs/hash-format.md, "Digest"). */

typedef struct DigestChain
{
	const char *name;
	int64_t		seq;
	unsigned char hash[CHAIN_HASH_LEN];
} DigestChain;

static void
merkle_root(const DigestChain *chains, int n, unsigned char *root)
{
	Buf			b = {0};
	unsigned char *level;
	int			i;

	if (n == 0)
	{
		buf_u8(&b, CHAIN_MERKLE_EMPTY);
		buf_bytes(&b, CHAIN_DIGEST_DOMAIN, strlen(CHAIN_DIGEST_DOMAIN));
		sha256(b.data, b.len, root);
		free(b.data);
		return;
	}
	level = xmalloc((size_t) CHAIN_HASH_LEN * n);
	for (i = 0; i < n; i++)
	{
		b.len = 0;
		buf_u8(&b, CHAIN_MERKLE_LEAF);
		buf_bytes(&b, CHAIN_DIGEST_DOMAIN, strlen(CHAIN_DIGEST_DOMAIN));
		buf_bytes(&b, chains[i].name, strlen(chains[i].name));
		buf_i64(&b, chains[i].seq);
		buf_put(&b, chains[i].hash, CHAIN_HASH_LEN);
		sha256(b.data, b.len, level + CHAIN_HASH_LEN * i);
	}
	while (n > 1)
	{
		int			m = 0;

		for (i = 0; i < n; i += 2, m++)
		{
			if (i + 1 < n)
			{
				unsigned char node[1 + 2 * CHAIN_HASH_LEN];

				node[0] = CHAIN_MERKLE_NODE;
				memcpy(node + 1, level + CHAIN_HASH_LEN * i, 2 * CHAIN_HASH_LEN);
				sha256(node, sizeof(node), level + CHAIN_HASH_LEN * m);
			}
			else
				memmove(level + CHAIN_HASH_LEN * m, level + CHAIN_HASH_LEN * i, CHAIN_HASH_LEN);
		}
		n = m;
	}
	memcpy(root, level, CHAIN_HASH_LEN);
	free(level);
	free(b.data);
}


/* ---- signed digests (docs/hash-format.md, "Signed digests") --------------- */

/* A public key given with --trusted-key. */
typedef struct TrustedKey
{
	const char *path;
	unsigned char pub[CHAIN_PUBKEY_LEN];
	unsigned char id[CHAIN_HASH_LEN];
} TrustedKey;

static TrustedKey *trusted_keys = NULL;
static int	ntrusted = 0;

/* What the digest's signature was found to be, for the summary line. */
static const char *signature_note = NULL;

/* The last OpenSSL error as text, for messages. */
static const char *
openssl_error(void)
{
	static char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "no further detail from OpenSSL";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

/*
 * Read an Ed25519 key from the PEM file path: the private key when
 * private, else the public key.  Anything else means status 2.
 */
static EVP_PKEY *
read_key(const char *path, bool private)
{
	FILE	   *f = fopen(path, "r");
	EVP_PKEY   *pkey;

	if (f == NULL)
	{
		pg_error("could not open key file \"%s\": %s", path, strerror(errno));
		cannot_check();
	}
	pkey = private ? PEM_read_PrivateKey(f, NULL, NULL, NULL) :
		PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (pkey == NULL)
	{
		pg_error("could not read %s key file \"%s\": %s",
				 private ? "a private" : "a public", path, openssl_error());
		pg_detail(private ? "Pass the PREFIX.key file written by \"%s keygen PREFIX\"." :
				  "Pass the PREFIX.pub file written by \"%s keygen PREFIX\".", progname);
		cannot_check();
	}
	if (EVP_PKEY_id(pkey) != EVP_PKEY_ED25519)
	{
		pg_error("key file \"%s\" holds a key of another algorithm than Ed25519", path);
		cannot_check();
	}
	return pkey;
}

/* The 32 bytes of an Ed25519 key's public half, and its id (their SHA-256). */
static void
key_public(EVP_PKEY *pkey, unsigned char *pub, unsigned char *id)
{
	size_t		len = CHAIN_PUBKEY_LEN;

	if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 || len != CHAIN_PUBKEY_LEN)
	{
		pg_error("could not read an Ed25519 public key: %s", openssl_error());
		cannot_check();
	}
	sha256(pub, CHAIN_PUBKEY_LEN, id);
}

static void
add_trusted_key(const char *path)
{
	EVP_PKEY   *pkey = read_key(path, false);
	TrustedKey *k;

	trusted_keys = xrealloc(trusted_keys, sizeof(TrustedKey) * (ntrusted + 1));
	k = &trusted_keys[ntrusted++];
	k->path = path;
	key_public(pkey, k->pub, k->id);
	EVP_PKEY_free(pkey);
}

/* A JSON integer member of obj, false unless it is one. */
static bool
j_int64(const JVal *obj, const char *key, int64_t *out)
{
	JVal	   *v = j_member(obj, key);
	char	   *end;

	if (v == NULL || v->type != J_NUM)
		return false;
	errno = 0;
	*out = strtoll(v->str, &end, 10);
	return errno == 0 && *end == '\0' && end != v->str;
}

/*
 * The bytes a signature by key key_id covers:
 *
 *	bytes("wallet_ops/digest-signature/v1") || bytes("ed25519") || key_id ||
 *	bytes(format) || bytes(hash_format) || bytes(table) || bytes(taken_at) ||
 *	bytes(system_identifier) || i64(chain_count) || i64(row_count) ||
 *	merkle_root
 *
 * False, with *missing naming the field, when the digest lacks one.
 */
static bool
signed_message(const JVal *root, const unsigned char *key_id, Buf *msg,
			   const char **missing)
{
	static const char *const strings[] = {"format", "hash_format", "table",
	"taken_at", "system_identifier"};
	int64_t		chain_count,
				row_count;
	unsigned char merkle[CHAIN_HASH_LEN];
	size_t		i;

	*missing = NULL;
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
	{
		JVal	   *v = j_member(root, strings[i]);

		if (v == NULL || v->type != J_STR)
			*missing = strings[i];
	}
	if (!j_int64(root, "chain_count", &chain_count))
		*missing = "chain_count";
	if (!j_int64(root, "row_count", &row_count))
		*missing = "row_count";
	if (!unhex(j_text(root, "merkle_root"), merkle))
		*missing = "merkle_root";
	if (*missing)
		return false;
	msg->len = 0;
	buf_bytes(msg, CHAIN_SIGNATURE_DOMAIN, strlen(CHAIN_SIGNATURE_DOMAIN));
	buf_bytes(msg, CHAIN_SIGNATURE_ALGORITHM, strlen(CHAIN_SIGNATURE_ALGORITHM));
	buf_put(msg, key_id, CHAIN_HASH_LEN);
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
	{
		const char *v = j_member(root, strings[i])->str;

		buf_bytes(msg, v, strlen(v));
	}
	buf_i64(msg, chain_count);
	buf_i64(msg, row_count);
	buf_put(msg, merkle, CHAIN_HASH_LEN);
	return true;
}

/* Whether sig is pub's Ed25519 signature of msg; status 2 if OpenSSL fails. */
static bool
ed25519_verify(const unsigned char *pub, const unsigned char *sig, const Buf *msg)
{
	EVP_PKEY   *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
												   CHAIN_PUBKEY_LEN);
	EVP_MD_CTX *ctx = pkey ? EVP_MD_CTX_new() : NULL;
	int			rc;

	/* Ed25519 hashes the message itself: no digest type (NULL) */
	if (ctx == NULL || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1)
	{
		pg_error("could not set up an Ed25519 verification: %s", openssl_error());
		cannot_check();
	}
	rc = EVP_DigestVerify(ctx, sig, CHAIN_SIGNATURE_LEN, msg->data, msg->len);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc == 1;
}

/*
 * The digest's signature member, checked against the --trusted-key keys:
 * one problem (signature_missing, signing_key_unknown, signature_mismatch)
 * when it does not hold.  A malformed signature member means status 2.
 */
static void
check_signature(const JVal *root, const char *path)
{
	JVal	   *sig = j_member(root, "signature");
	const char *alg,
			   *value;
	unsigned char key_id[CHAIN_HASH_LEN],
				sigbytes[CHAIN_SIGNATURE_LEN];
	char		idhex[2 * CHAIN_HASH_LEN + 1];
	const char *missing;
	Buf			msg = {0};
	int			i;

	if (sig == NULL)
	{
		if (ntrusted > 0)
			problem(NULL, false, 0, "signature_missing",
					"the digest is not signed, but --trusted-key was given");
		return;
	}
	alg = j_text(sig, "algorithm");
	value = j_text(sig, "value");
	if (sig->type != J_OBJ || alg == NULL || strcmp(alg, CHAIN_SIGNATURE_ALGORITHM) != 0 ||
		!unhex(j_text(sig, "key_id"), key_id) || value == NULL ||
		strlen(value) != 2 * CHAIN_SIGNATURE_LEN ||
		!unhex_n(value, sigbytes, CHAIN_SIGNATURE_LEN))
	{
		pg_error("digest file \"%s\" has a malformed signature", path);
		pg_detail("A signature is {\"algorithm\": \"%s\", \"key_id\": 64 hexadecimal digits, \"value\": 128 hexadecimal digits}.",
				  CHAIN_SIGNATURE_ALGORITHM);
		cannot_check();
	}
	hex(key_id, idhex);
	if (ntrusted == 0)
	{
		signature_note = "signature not checked (no --trusted-key)";
		return;
	}
	for (i = 0; i < ntrusted; i++)
		if (memcmp(trusted_keys[i].id, key_id, CHAIN_HASH_LEN) == 0)
			break;
	if (i == ntrusted)
	{
		problem(NULL, false, 0, "signing_key_unknown",
				"the digest is signed by key %s, which is none of the --trusted-key keys", idhex);
		return;
	}
	if (!signed_message(root, key_id, &msg, &missing))
		problem(NULL, false, 0, "signature_mismatch",
				"the digest is signed but has no field \"%s\", which its signature covers", missing);
	else if (!ed25519_verify(trusted_keys[i].pub, sigbytes, &msg))
		problem(NULL, false, 0, "signature_mismatch",
				"the signature by key %s (%s) does not match the digest's content: the digest was edited after it was signed",
				trusted_keys[i].path, idhex);
	else
		signature_note = "signature valid";
	free(msg.data);
}

static char *digest_table = NULL;
static char *digest_taken_at = NULL;
static int	digest_nchains = 0;

/*
 * The JSON object in file path (- for standard input), what naming it in
 * messages ("digest", "proof"); anything unreadable means status 2.
 */
static JVal *
read_json_file(const char *path, const char *what)
{
	FILE	   *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	Buf			b = {0};
	char		chunk[65536];
	size_t		n;
	JParser		jp;
	JVal	   *root;

	if (f == NULL)
	{
		pg_error("could not open %s file \"%s\": %s", what, path, strerror(errno));
		cannot_check();
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_put(&b, chunk, n);
	if (ferror(f))
	{
		pg_error("could not read %s file \"%s\": %s", what, path, strerror(errno));
		cannot_check();
	}
	if (f != stdin)
		fclose(f);
	jp.p = (const char *) b.data;
	jp.end = jp.p + b.len;
	jp.err = NULL;
	root = j_value(&jp, 0);
	if (root)
	{
		j_ws(&jp);
		if (jp.p != jp.end)
		{
			jp.err = "trailing characters";
			root = NULL;
		}
	}
	if (root == NULL || root->type != J_OBJ)
	{
		pg_error("could not parse %s file \"%s\": %s", what, path,
				 jp.err ? jp.err : "not a JSON object");
		cannot_check();
	}
	free(b.data);
	return root;
}

/*
 * Read a digest saved from wallet_ops.chain_digest(): check its own Merkle
 * root and remember what it attests of each chain (only chain "only" when
 * given).  Anything unreadable means the check cannot be made.
 */
static void
load_digest(const char *path, const char *only)
{
	JVal	   *root,
			   *chains;
	const char *s;
	DigestChain *dc;
	unsigned char claimed[CHAIN_HASH_LEN],
				computed[CHAIN_HASH_LEN];
	int			i;

	root = read_json_file(path, "digest");
	s = j_text(root, "format");
	if (s == NULL || strcmp(s, CHAIN_DIGEST_FORMAT) != 0)
	{
		pg_error("digest file \"%s\" has format \"%s\", which is not supported",
				 path, s ? s : "");
		pg_detail("Save the output of wallet_ops.chain_digest() as it is.");
		cannot_check();
	}
	s = j_text(root, "hash_format");
	if (s == NULL || strcmp(s, CHAIN_ROW_DOMAIN) != 0)
	{
		pg_error("digest file \"%s\" has hash format \"%s\", which is not supported",
				 path, s ? s : "");
		cannot_check();
	}
	if (!unhex(j_text(root, "merkle_root"), claimed))
	{
		pg_error("digest file \"%s\" has no valid merkle_root", path);
		cannot_check();
	}
	chains = j_member(root, "chains");
	if (chains == NULL || chains->type != J_ARR)
	{
		pg_error("digest file \"%s\" has no chains array", path);
		cannot_check();
	}
	dc = xmalloc(sizeof(DigestChain) * (chains->n ? chains->n : 1));
	for (i = 0; i < chains->n; i++)
	{
		JVal	   *c = chains->vals[i];
		JVal	   *name = j_member(c, "chain_key");
		const char *seq = j_text(c, "last_seq");
		char	   *endp;

		if (name == NULL || name->type != J_STR || seq == NULL ||
			!unhex(j_text(c, "head_hash"), dc[i].hash))
		{
			pg_error("chain %d of digest file \"%s\" needs chain_key, last_seq and head_hash",
					 i + 1, path);
			cannot_check();
		}
		dc[i].name = name->str;
		errno = 0;
		dc[i].seq = strtoll(seq, &endp, 10);
		if (errno || *endp || dc[i].seq < 1)
		{
			pg_error("chain %d of digest file \"%s\" has an invalid last_seq \"%s\"",
					 i + 1, path, seq);
			cannot_check();
		}
	}
	check_signature(root, path);
	merkle_root(dc, chains->n, computed);
	s = j_text(root, "chain_count");
	if (memcmp(computed, claimed, CHAIN_HASH_LEN) != 0 || s == NULL ||
		strtoll(s, NULL, 10) != chains->n)
	{
		char		h1[2 * CHAIN_HASH_LEN + 1],
					h2[2 * CHAIN_HASH_LEN + 1];

		hex(claimed, h1);
		hex(computed, h2);
		problem(NULL, false, 0, "digest_mismatch",
				"the digest's merkle_root %s or chain_count %s does not match its %d chains (merkle root %s)",
				h1, s ? s : "(none)", chains->n, h2);
	}
	for (i = 0; i < chains->n; i++)
	{
		Known	   *k;

		if (only && strcmp(only, dc[i].name) != 0)
			continue;
		k = known_get(dc[i].name, true);
		k->attested = true;
		k->att_seq = dc[i].seq;
		memcpy(k->att_hash, dc[i].hash, CHAIN_HASH_LEN);
		digest_nchains++;
	}
	s = j_text(root, "table");
	digest_table = s ? xstrdup(s) : NULL;
	s = j_text(root, "taken_at");
	digest_taken_at = s ? xstrdup(s) : NULL;
	free(dc);
}

/* ---- verification ---------------------------------------------------------- */

typedef struct Table
{
	char	   *oid;
	char	   *qualname;		/* quoted */
	char		relkind;
	int			nkeys;
	Column	   *keys;
	int			ncols;
	Column	   *cols;
} Table;

/* The state of the chain being read (rows arrive chain by chain). */
typedef struct Chain
{
	char	   *name;
	Known	   *known;
	int64_t		expected;
	int64_t		prev_seq;		/* 0: no hashed row yet */
	unsigned char prev_hash[CHAIN_HASH_LEN];	/* genesis, then last row_hash */
	bool		att_seen;
	unsigned char att_seen_hash[CHAIN_HASH_LEN];
} Chain;

static int64_t nrows = 0;
static int64_t nchains = 0;

/* whether the table is distributed with Citus (load_heads finds out) */
static bool distributed_table = false;

static void
chain_check_head(const char *name, Known *k, int64_t last_seq,
				 const unsigned char *last_hash)
{
	char		h1[2 * CHAIN_HASH_LEN + 1],
				h2[2 * CHAIN_HASH_LEN + 1];
	bool		has_head = k && k->has_head;

	if (last_seq > 0 && !has_head)
	{
		hex(last_hash, h1);
		problem(name, true, last_seq, "head_mismatch",
				"the chain ends at chain_seq %" PRId64 " with row_hash %s but has no recorded head",
				last_seq, h1);
	}
	else if (last_seq == 0 && has_head && k->head_seq > 0)
	{
		hex(k->head_hash, h1);
		problem(name, true, k->head_seq, "head_mismatch",
				"the recorded head is chain_seq %" PRId64 " with hash %s but the chain has no hashed rows",
				k->head_seq, h1);
	}
	else if (last_seq > 0 && has_head &&
			 (k->head_seq != last_seq || memcmp(k->head_hash, last_hash, CHAIN_HASH_LEN) != 0))
	{
		hex(k->head_hash, h1);
		hex(last_hash, h2);
		problem(name, true, k->head_seq, "head_mismatch",
				"the recorded head is chain_seq %" PRId64 " with hash %s, but the chain ends at chain_seq %" PRId64 " with row_hash %s",
				k->head_seq, h1, last_seq, h2);
	}
}

static void
chain_check_attested(const char *name, Known *k, int64_t last_seq, bool seen,
					 const unsigned char *seen_hash)
{
	char		h1[2 * CHAIN_HASH_LEN + 1],
				h2[2 * CHAIN_HASH_LEN + 1];

	if (k == NULL || !k->attested)
		return;
	hex(k->att_hash, h1);
	if (last_seq == 0)
		problem(name, true, k->att_seq, "missing_row",
				"the digest attests chain_seq %" PRId64 " with head hash %s, but the chain has no rows",
				k->att_seq, h1);
	else if (last_seq < k->att_seq)
		problem(name, true, k->att_seq, "missing_row",
				"the chain ends at chain_seq %" PRId64 ", before chain_seq %" PRId64 " attested by the digest with head hash %s",
				last_seq, k->att_seq, h1);
	else if (seen && memcmp(seen_hash, k->att_hash, CHAIN_HASH_LEN) != 0)
	{
		hex(seen_hash, h2);
		problem(name, true, k->att_seq, "digest_mismatch",
				"row_hash %s differs from the head hash %s attested by the digest",
				h2, h1);
	}
}

static void
chain_finish(Chain *c)
{
	if (c->name == NULL)
		return;
	chain_check_head(c->name, c->known, c->prev_seq, c->prev_hash);
	chain_check_attested(c->name, c->known, c->prev_seq, c->att_seen, c->att_seen_hash);
	if (c->known)
		c->known->visited = true;
	free(c->name);
	c->name = NULL;
}

static void
chain_start(Chain *c, const Table *t, const char *name, const PGresult *res, int row)
{
	Buf			b = {0};
	int			i;

	c->name = xstrdup(name);
	c->known = known_get(name, false);
	c->expected = 1;
	c->prev_seq = 0;
	c->att_seen = false;
	nchains++;

	/* genesis = H(bytes("wallet_ops/genesis/v1") || u32(k) || field(key)...) */
	buf_bytes(&b, CHAIN_GENESIS_DOMAIN, strlen(CHAIN_GENESIS_DOMAIN));
	buf_u32(&b, (uint32_t) t->nkeys);
	for (i = 0; i < t->nkeys; i++)
		if (!encode_field(&b, &t->keys[i], res, row, 1 + i))
		{
			pg_error("could not encode chain key column \"%s\": %s",
					 t->keys[i].name, encode_error);
			cannot_check();
		}
	sha256(b.data, b.len, c->prev_hash);
	free(b.data);
}

static bool
get_hash(const PGresult *res, int row, int fno, unsigned char *out)
{
	if (PQgetisnull(res, row, fno) || PQgetlength(res, row, fno) != CHAIN_HASH_LEN)
		return false;
	memcpy(out, PQgetvalue(res, row, fno), CHAIN_HASH_LEN);
	return true;
}

/*
 * One row, in (key, chain_seq NULLS LAST, row_hash) order.  The checks and
 * their order are those of verify_chain's ordered pass.
 */
static void
check_row(Chain *c, const Table *t, const PGresult *res, int row, Buf *msg)
{
	int			base = 1 + t->nkeys;	/* chain_seq */
	bool		seqnull = PQgetisnull(res, row, base);
	int64_t		seq = 0;
	unsigned char prev[CHAIN_HASH_LEN],
				hash[CHAIN_HASH_LEN],
				computed[CHAIN_HASH_LEN];
	bool		has_prev = get_hash(res, row, base + 1, prev);
	bool		has_hash = get_hash(res, row, base + 2, hash);
	bool		mismatch;
	char		h1[2 * CHAIN_HASH_LEN + 1],
				h2[2 * CHAIN_HASH_LEN + 1];
	int			i;

	if (!seqnull)
	{
		if (PQgetlength(res, row, base) != 8)
		{
			pg_error("unexpected binary format of chain_seq");
			cannot_check();
		}
		seq = get_i64((const unsigned char *) PQgetvalue(res, row, base));
	}
	if (seqnull || !has_prev || !has_hash)
	{
		char		why[200] = "the row was not hashed by the chain trigger:";

		if (seqnull)
			strcat(why, " chain_seq is null;");
		if (!has_prev)
			strcat(why, " prev_hash is not a 32-byte hash;");
		if (!has_hash)
			strcat(why, " row_hash is not a 32-byte hash;");
		why[strlen(why) - 1] = '\0';
		problem(c->name, !seqnull, seq, "unhashed_row", "%s", why);
		return;
	}

	/* row_hash = H(bytes("wallet_ops/row/v1") || i64(seq) || prev || u32(n) || fields) */
	msg->len = 0;
	buf_bytes(msg, CHAIN_ROW_DOMAIN, strlen(CHAIN_ROW_DOMAIN));
	buf_i64(msg, seq);
	buf_put(msg, prev, CHAIN_HASH_LEN);
	buf_u32(msg, (uint32_t) t->ncols);
	for (i = 0; i < t->ncols; i++)
		if (!encode_field(msg, &t->cols[i], res, row, base + 3 + i))
		{
			pg_error("could not encode column \"%s\" of chain_seq %" PRId64 ": %s",
					 t->cols[i].name, seq, encode_error);
			cannot_check();
		}
	sha256(msg->data, msg->len, computed);
	mismatch = memcmp(computed, hash, CHAIN_HASH_LEN) != 0;

	if (seq < 1)
	{
		problem(c->name, true, seq, "broken_link",
				"chain_seq %" PRId64 " is out of range", seq);
		return;
	}
	if (c->prev_seq != 0 && seq == c->prev_seq)
	{
		hex(c->prev_hash, h1);
		hex(hash, h2);
		problem(c->name, true, seq, "duplicate_seq",
				"another row with this chain_seq has row_hash %s; this one has %s", h1, h2);
		if (mismatch)
		{
			hex(computed, h1);
			problem(c->name, true, seq, "hash_mismatch",
					"stored row_hash %s, computed %s (the duplicate)", h2, h1);
		}
		return;
	}
	if (seq > c->expected)
	{
		if (seq - 1 == c->expected)
			problem(c->name, true, c->expected, "missing_row",
					"chain_seq %" PRId64 " is missing", c->expected);
		else
			problem(c->name, true, c->expected, "missing_row",
					"chain_seq %" PRId64 " to %" PRId64 " are missing", c->expected, seq - 1);
	}
	if (mismatch)
	{
		hex(hash, h1);
		hex(computed, h2);
		problem(c->name, true, seq, "hash_mismatch", "stored row_hash %s, computed %s", h1, h2);
	}
	if (seq == c->expected && memcmp(prev, c->prev_hash, CHAIN_HASH_LEN) != 0)
	{
		hex(prev, h1);
		hex(c->prev_hash, h2);
		if (seq == 1)
			problem(c->name, true, seq, "broken_link",
					"prev_hash %s, but the chain's genesis is %s", h1, h2);
		else
			problem(c->name, true, seq, "broken_link",
					"prev_hash %s, but row %" PRId64 " has row_hash %s", h1, seq - 1, h2);
	}
	if (c->known && c->known->attested && seq == c->known->att_seq && !c->att_seen)
	{
		c->att_seen = true;
		memcpy(c->att_seen_hash, hash, CHAIN_HASH_LEN);
	}
	memcpy(c->prev_hash, hash, CHAIN_HASH_LEN);
	c->prev_seq = seq;
	c->expected = seq + 1;
}

static void
load_table(Table *t, const char *table)
{
	const char *params[1] = {table};
	PGresult   *res;
	int			i;

	res = run("find the table",
			  "SELECT c.oid, c.relkind,"
			  " pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.'"
			  " OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.relname)"
			  " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
			  "   ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
			  " WHERE c.oid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
			  1, params, 0);
	t->oid = xstrdup(PQgetvalue(res, 0, 0));
	t->relkind = PQgetvalue(res, 0, 1)[0];
	t->qualname = xstrdup(PQgetvalue(res, 0, 2));
	PQclear(res);

	/* from now on, nothing depends on the caller's search_path */
	PQclear(run("set the search path",
				"SELECT pg_catalog.set_config('search_path', '', false)", 0, NULL, 0));

	params[0] = t->oid;
	res = run("read wallet_ops.hash_chains",
			  "SELECT format_version FROM wallet_ops.hash_chains"
			  " WHERE relid OPERATOR(pg_catalog.=) $1::pg_catalog.oid::pg_catalog.regclass",
			  1, params, 0);
	if (PQntuples(res) == 0)
	{
		pg_error("table %s is not hash-chained", t->qualname);
		pg_detail("It has no row in wallet_ops.hash_chains; see wallet_ops.enable_hash_chain().");
		cannot_check();
	}
	if (atoi(PQgetvalue(res, 0, 0)) != CHAIN_FORMAT_VERSION)
	{
		pg_error("table %s uses hash format version %s, which this program does not support",
				 t->qualname, PQgetvalue(res, 0, 0));
		cannot_check();
	}
	PQclear(res);

	for (i = 0; i < 2; i++)
	{
		const char *what = i == 0 ? "chain_key" : "hashed_columns";
		char		sql[1024];
		int			r;
		Column	   *cols;

		snprintf(sql, sizeof(sql),
				 "SELECT k.name, a.atttypid, pg_catalog.format_type(a.atttypid, NULL)"
				 "  FROM wallet_ops.hash_chains h,"
				 "       pg_catalog.unnest(h.%s) WITH ORDINALITY AS k(name, n)"
				 "  LEFT JOIN pg_catalog.pg_attribute a"
				 "    ON a.attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid"
				 "   AND a.attname OPERATOR(pg_catalog.=) k.name AND NOT a.attisdropped"
				 " WHERE h.relid OPERATOR(pg_catalog.=) $1::pg_catalog.oid::pg_catalog.regclass"
				 " ORDER BY k.n", what);
		res = run("read the chain configuration", sql, 1, params, 0);
		cols = xmalloc(sizeof(Column) * (PQntuples(res) + 1));
		for (r = 0; r < PQntuples(res); r++)
		{
			if (PQgetisnull(res, r, 1))
			{
				pg_error("column \"%s\" of hash-chained table %s does not exist",
						 PQgetvalue(res, r, 0), t->qualname);
				cannot_check();
			}
			column_init(&cols[r], PQgetvalue(res, r, 0),
						(uint32_t) strtoul(PQgetvalue(res, r, 1), NULL, 10), t->qualname);
			cols[r].typname = xstrdup(PQgetvalue(res, r, 2));
		}
		if (i == 0)
		{
			t->keys = cols;
			t->nkeys = PQntuples(res);
		}
		else
		{
			t->cols = cols;
			t->ncols = PQntuples(res);
		}
		PQclear(res);
	}
}

/* chain_key "as stored" for the chain heads; only one chain with --chain */
/* The heads as chain_digest() gives them, for any role that may read the table. */
#define HEADS_BY_DIGEST_SQL \
	"SELECT c->>'chain_key', c->>'last_seq', c->>'head_hash'" \
	"  FROM pg_catalog.jsonb_array_elements(" \
	"         wallet_ops.chain_digest($1::pg_catalog.oid::pg_catalog.regclass)" \
	"         OPERATOR(pg_catalog.->) 'chains') AS c"

static void
load_heads(const Table *t, const char *only)
{
	const char *params[2] = {t->oid, only};
	PGresult   *res;
	int			r;
	bool		distributed = false;

	/*
	 * A table distributed with Citus keeps its heads beside its shards, on
	 * the workers; chain_digest() on the coordinator collects them
	 * (docs/citus.md).
	 */
	res = run("look for Citus",
			  "SELECT pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL",
			  0, NULL, 0);
	if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
	{
		PQclear(res);
		res = run("read pg_dist_partition",
				  "SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_partition"
				  " WHERE logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid::pg_catalog.regclass",
				  1, params, 0);
		distributed = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
	}
	distributed_table = distributed;
	PQclear(res);

	if (distributed)
		res = run("read the chain heads (through wallet_ops.chain_digest())",
				  HEADS_BY_DIGEST_SQL,
				  1, params, 0);
	else
		res = PQexecParams(conn,
					   only ?
					   "SELECT chain_key, last_seq, pg_catalog.encode(last_hash, 'hex')"
					   "  FROM wallet_ops.chain_heads"
					   " WHERE relid OPERATOR(pg_catalog.=) $1::pg_catalog.oid::pg_catalog.regclass"
					   "   AND chain_key OPERATOR(pg_catalog.=) $2" :
					   "SELECT chain_key, last_seq, pg_catalog.encode(last_hash, 'hex')"
					   "  FROM wallet_ops.chain_heads"
					   " WHERE relid OPERATOR(pg_catalog.=) $1::pg_catalog.oid::pg_catalog.regclass",
					   only ? 2 : 1, NULL, params, NULL, NULL, 0);
	if (!distributed && PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (sqlstate == NULL || strcmp(sqlstate, "42501") != 0)
			query_failed("read wallet_ops.chain_heads", res);
		PQclear(res);

		/*
		 * chain_heads is not readable by everyone; chain_digest() reads it
		 * for any role that may read the table.  The transaction is aborted
		 * now: the savepoint below brought us back.
		 */
		PQclear(run("roll back to the savepoint", "ROLLBACK TO SAVEPOINT heads", 0, NULL, 0));
		res = run("read the chain heads (through wallet_ops.chain_digest())",
				  HEADS_BY_DIGEST_SQL,
				  1, params, 0);
	}
	for (r = 0; r < PQntuples(res); r++)
	{
		const char *name = PQgetvalue(res, r, 0);
		Known	   *k;

		if (only && strcmp(only, name) != 0)
			continue;
		k = known_get(name, true);
		k->has_head = true;
		k->head_seq = PQgetisnull(res, r, 1) ? 0 : strtoll(PQgetvalue(res, r, 1), NULL, 10);
		if (!unhex(PQgetvalue(res, r, 2), k->head_hash))
			memset(k->head_hash, 0, CHAIN_HASH_LEN);
	}
	PQclear(res);
}

static void
append_ident(Buf *b, const char *s)
{
	buf_u8(b, '"');
	for (; *s; s++)
	{
		if (*s == '"')
			buf_u8(b, '"');
		buf_u8(b, (unsigned char) *s);
	}
	buf_u8(b, '"');
}

static void
append_str(Buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

/* The column as selected: numeric goes as its text output. */
static void
append_column(Buf *b, const Column *col)
{
	append_ident(b, col->name);
	if (col->tag == CHAIN_TAG_NUMERIC)
		append_str(b, "::pg_catalog.numeric::pg_catalog.text");
	else if (col->tag == CHAIN_TAG_ARRAY && col->elemtag == CHAIN_TAG_NUMERIC)
		append_str(b, "::pg_catalog.numeric[]::pg_catalog.text[]");
}

static void
append_name_expr(Buf *b, const Table *t)
{
	int			i;

	if (t->nkeys == 0)
	{
		append_str(b, "''::pg_catalog.text");
		return;
	}
	if (t->nkeys > 1)
		append_str(b, "pg_catalog.json_build_array(");
	for (i = 0; i < t->nkeys; i++)
	{
		if (i > 0)
			append_str(b, ", ");
		/* concat() uses the type's output function, as the server does */
		append_str(b, "pg_catalog.concat(");
		append_ident(b, t->keys[i].name);
		append_str(b, ")");
	}
	if (t->nkeys > 1)
		append_str(b, ")::pg_catalog.text");
}

/*
 * Append the sort position of a row as a row constructor, null keys last as
 * in ORDER BY: (k1 IS NULL, k1, k2 IS NULL, k2, ...), or for a bound given
 * as parameters $first.., (false, CAST($first AS type1), false, ...).
 */
static void
append_position(Buf *b, const Table *t, int first)
{
	int			i;

	append_str(b, "(");
	for (i = 0; i < t->nkeys; i++)
	{
		char		param[64];

		if (i > 0)
			append_str(b, ", ");
		if (first == 0)
		{
			append_ident(b, t->keys[i].name);
			append_str(b, " IS NULL, ");
			append_ident(b, t->keys[i].name);
		}
		else
		{
			snprintf(param, sizeof(param), "false, CAST($%d::pg_catalog.text AS ", first + i);
			append_str(b, param);
			append_str(b, t->keys[i].typname);
			append_str(b, ")");
		}
	}
	append_str(b, ")");
}

/*
 * Stream the table (only chain "only" when given; with --jobs, only the
 * chains from bound lo, included, to bound hi, excluded, NULL meaning no
 * bound: each bound is one text value per key column) and check each row
 * and each chain that has rows.
 */
static void
verify_rows(const Table *t, const char *only, int fetch, char **lo, char **hi)
{
	Buf			sql = {0};
	Buf			body = {0};
	Buf			order = {0};
	Buf			msg = {0};
	Chain		c = {0};
	char		fetchsql[64];
	const char **params = xmalloc(sizeof(char *) * (2 * t->nkeys + 1));
	int			nparams = 0;
	int			i;
	PGresult   *res;

	/* the columns read and the order they are read in */
	append_str(&body, "SELECT ");
	append_name_expr(&body, t);
	for (i = 0; i < t->nkeys; i++)
	{
		append_str(&body, ", ");
		append_column(&body, &t->keys[i]);
	}
	append_str(&body, ", chain_seq, prev_hash, row_hash");
	for (i = 0; i < t->ncols; i++)
	{
		append_str(&body, ", ");
		append_column(&body, &t->cols[i]);
	}
	append_str(&body, t->relkind == 'p' ? " FROM " : " FROM ONLY ");
	append_str(&body, t->qualname);
	append_str(&order, " ORDER BY ");
	for (i = 0; i < t->nkeys; i++)
	{
		append_ident(&order, t->keys[i].name);
		/* equal numerics of another scale are other chains */
		if (t->keys[i].tag == CHAIN_TAG_NUMERIC)
		{
			append_str(&order, ", pg_catalog.concat(");
			append_ident(&order, t->keys[i].name);
			append_str(&order, ")");
		}
		append_str(&order, ", ");
	}
	/* rows equal so far (copies) in storage order, whatever the plan */
	append_str(&order, "chain_seq, row_hash, tableoid, ctid");
	buf_u8(&body, 0);
	buf_u8(&order, 0);

	append_str(&sql, "DECLARE wallet_ops_verify NO SCROLL CURSOR FOR ");
	if (only)
	{
		/* the key values (so the chain index serves), then the exact name */
		append_str(&sql, (char *) body.data);
		append_str(&sql, " WHERE ");
		for (i = 0; i < t->nkeys; i++)
		{
			char		elem[160];

			append_ident(&sql, t->keys[i].name);
			if (t->nkeys == 1)
				append_str(&sql, " OPERATOR(pg_catalog.=) CAST($1::pg_catalog.text AS ");
			else
			{
				snprintf(elem, sizeof(elem),
						 " OPERATOR(pg_catalog.=) CAST(($1::pg_catalog.json OPERATOR(pg_catalog.->>) %d) AS ", i);
				append_str(&sql, elem);
			}
			append_str(&sql, t->keys[i].typname);
			append_str(&sql, ") AND ");
		}
		append_name_expr(&sql, t);
		append_str(&sql, " OPERATOR(pg_catalog.=) $1::pg_catalog.text");
		append_str(&sql, (char *) order.data);
		params[nparams++] = only;
	}
	else if ((lo || hi) && t->nkeys == 1)
	{
		/*
		 * One key column: conditions on the column itself, so that each part
		 * is a range of the chain index.  Rows with a null key come last in
		 * the serial order, so the last part reads them after its range, in
		 * a second branch (an Append runs its branches in order).
		 */
		if (lo && !hi)
			append_str(&sql, "(");
		append_str(&sql, (char *) body.data);
		append_str(&sql, " WHERE ");
		if (lo)
		{
			append_ident(&sql, t->keys[0].name);
			append_str(&sql, " OPERATOR(pg_catalog.>=) CAST($1::pg_catalog.text AS ");
			append_str(&sql, t->keys[0].typname);
			append_str(&sql, ")");
			params[nparams++] = lo[0];
		}
		if (hi)
		{
			char		param[64];

			if (lo)
				append_str(&sql, " AND ");
			append_ident(&sql, t->keys[0].name);
			snprintf(param, sizeof(param), " OPERATOR(pg_catalog.<) CAST($%d::pg_catalog.text AS ",
					 nparams + 1);
			append_str(&sql, param);
			append_str(&sql, t->keys[0].typname);
			append_str(&sql, ")");
			params[nparams++] = hi[0];
		}
		append_str(&sql, (char *) order.data);
		if (lo && !hi)
		{
			append_str(&sql, ") UNION ALL (");
			append_str(&sql, (char *) body.data);
			append_str(&sql, " WHERE ");
			append_ident(&sql, t->keys[0].name);
			append_str(&sql, " IS NULL");
			append_str(&sql, (char *) order.data);
			append_str(&sql, ")");
		}
	}
	else
	{
		append_str(&sql, (char *) body.data);
		if (lo || hi)
		{
			append_str(&sql, " WHERE ");
			if (lo)
			{
				append_position(&sql, t, 0);
				append_str(&sql, " OPERATOR(pg_catalog.>=) ");
				append_position(&sql, t, nparams + 1);
				for (i = 0; i < t->nkeys; i++)
					params[nparams++] = lo[i];
			}
			if (hi)
			{
				if (lo)
					append_str(&sql, " AND ");
				append_position(&sql, t, 0);
				append_str(&sql, " OPERATOR(pg_catalog.<) ");
				append_position(&sql, t, nparams + 1);
				for (i = 0; i < t->nkeys; i++)
					params[nparams++] = hi[i];
			}
		}
		append_str(&sql, (char *) order.data);
	}
	buf_u8(&sql, 0);
	free(body.data);
	free(order.data);

	PQclear(run(only ? "select the chain given with --chain" : "read the table",
				(char *) sql.data, nparams, params, 0));
	snprintf(fetchsql, sizeof(fetchsql), "FETCH FORWARD %d FROM wallet_ops_verify", fetch);
	for (;;)
	{
		int			n,
					r;

		res = run("read the table", fetchsql, 0, NULL, 1);
		n = PQntuples(res);
		if (n == 0)
		{
			PQclear(res);
			break;
		}
		for (r = 0; r < n; r++)
		{
			bool		nullkey = false;
			const char *name = PQgetvalue(res, r, 0);

			for (i = 0; i < t->nkeys; i++)
				nullkey |= PQgetisnull(res, r, 1 + i);
			nrows++;
			if (nullkey)
			{
				chain_finish(&c);
				problem(NULL, false, 0, "unhashed_row",
						"a row with a null chain key");
				continue;
			}
			if (c.name == NULL || strcmp(c.name, name) != 0)
			{
				chain_finish(&c);
				chain_start(&c, t, name, res, r);
			}
			check_row(&c, t, res, r, &msg);
		}
		PQclear(res);
	}
	chain_finish(&c);
	PQclear(run("close the cursor", "CLOSE wallet_ops_verify", 0, NULL, 0));
	free(sql.data);
	free(msg.data);
	free(params);
}

/* Heads and attested chains whose chain has no rows, by name. */
static void
check_unvisited(void)
{
	{
		Known	  **all = xmalloc(sizeof(Known *) * (known_count + 1));
		size_t		n = 0,
					j;

		for (j = 0; j < known_size && known_tab; j++)
		{
			Known	   *k;

			for (k = known_tab[j]; k; k = k->next)
				if (!k->visited)
					all[n++] = k;
		}
		qsort(all, n, sizeof(Known *), known_cmp);
		for (j = 0; j < n; j++)
		{
			unsigned char zero[CHAIN_HASH_LEN] = {0};

			chain_check_head(all[j]->name, all[j], 0, zero);
			chain_check_attested(all[j]->name, all[j], 0, false, zero);
		}
		free(all);
	}
}


/* Connection options, as every form of the command takes them. */
typedef struct ConnOptions
{
	const char *dbname;
	const char *host;
	const char *port;
	const char *user;
} ConnOptions;

/* Take option c (from getopt) if it is a connection option. */
static bool
conn_option(int c, const char *arg, ConnOptions *o)
{
	switch (c)
	{
		case 'd':
			o->dbname = arg;
			return true;
		case 'h':
			o->host = arg;
			return true;
		case 'p':
			o->port = arg;
			return true;
		case 'U':
			o->user = arg;
			return true;
		case 'w':
			return true;		/* never prompts anyway */
	}
	return false;
}

/*
 * Connect (leaving with status 2 if that fails), with the client encoding
 * UTF8 whatever the connection string says.
 */
static void
connect_db(const ConnOptions *co)
{
	const char *keywords[7];
	const char *values[7];
	int			n = 0;

	if (co->host)
	{
		keywords[n] = "host";
		values[n++] = co->host;
	}
	if (co->port)
	{
		keywords[n] = "port";
		values[n++] = co->port;
	}
	if (co->user)
	{
		keywords[n] = "user";
		values[n++] = co->user;
	}
	keywords[n] = "fallback_application_name";
	values[n++] = progname;
	keywords[n] = "client_encoding";
	values[n++] = "UTF8";
	/* dbname last: a connection string in it overrides what came before */
	if (co->dbname)
	{
		keywords[n] = "dbname";
		values[n++] = co->dbname;
	}
	keywords[n] = NULL;
	values[n] = NULL;
	conn = PQconnectdbParams(keywords, values, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		const char *m = conn ? PQerrorMessage(conn) : "out of memory";
		size_t		len = strlen(m);

		while (len > 0 && m[len - 1] == '\n')
			len--;
		pg_error("%.*s", (int) len, m);
		cannot_check();
	}
	/* text values must be UTF-8 whatever the connection string said */
	if (PQsetClientEncoding(conn, "UTF8") != 0)
	{
		pg_error("could not set client encoding to UTF8: %s", PQerrorMessage(conn));
		cannot_check();
	}
}

/* ---- --jobs: several connections on one snapshot ---------------------------- */

/* FROM [ONLY] table WHERE no key column is null */
static void
append_from_keyed(Buf *b, const Table *t)
{
	int			i;

	append_str(b, t->relkind == 'p' ? " FROM " : " FROM ONLY ");
	append_str(b, t->qualname);
	for (i = 0; i < t->nkeys; i++)
	{
		append_str(b, i == 0 ? " WHERE " : " AND ");
		append_ident(b, t->keys[i].name);
		append_str(b, " IS NOT NULL");
	}
}

/*
 * With one key column, the bounds from the column's histogram (ANALYZE's
 * quantiles, in pg_stats): no pass over the table before the parts start.
 * Returns their number, 0 when there are no statistics.
 */
static int
histogram_bounds(const Table *t, int jobs, char ***b)
{
	char		njobs[16];
	const char *params[3] = {t->oid, t->keys[0].name, njobs};
	PGresult   *res;
	int			nb = 0,
				r;

	snprintf(njobs, sizeof(njobs), "%d", jobs);
	res = run("read the key column's statistics",
			  "SELECT h.b[1 OPERATOR(pg_catalog.+) ((pg_catalog.array_length(h.b, 1) OPERATOR(pg_catalog.-) 1)"
			  "            OPERATOR(pg_catalog.*) j) OPERATOR(pg_catalog./) $3::pg_catalog.int4]"
			  "  FROM (SELECT s.histogram_bounds::pg_catalog.text::pg_catalog.text[] AS b"
			  "          FROM pg_catalog.pg_class c"
			  "          JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
			  "          JOIN pg_catalog.pg_stats s ON s.schemaname OPERATOR(pg_catalog.=) n.nspname"
			  "           AND s.tablename OPERATOR(pg_catalog.=) c.relname"
			  "         WHERE c.oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid"
			  "           AND s.attname OPERATOR(pg_catalog.=) $2::pg_catalog.name"
			  "           AND s.inherited OPERATOR(pg_catalog.=) (c.relkind OPERATOR(pg_catalog.=) 'p')) h,"
			  "       pg_catalog.generate_series(1, $3::pg_catalog.int4 OPERATOR(pg_catalog.-) 1) j"
			  " WHERE pg_catalog.array_length(h.b, 1) OPERATOR(pg_catalog.>=) $3::pg_catalog.int4"
			  " ORDER BY j",
			  3, params, 0);
	for (r = 0; r < PQntuples(res); r++)
	{
		if (PQgetisnull(res, r, 0))
			break;
		/* equal quantiles (a few chains with most rows) make one bound */
		if (nb > 0 && strcmp(b[nb - 1][0], PQgetvalue(res, r, 0)) == 0)
			continue;
		b[nb] = xmalloc(sizeof(char *));
		b[nb][0] = xstrdup(PQgetvalue(res, r, 0));
		nb++;
	}
	if (r < PQntuples(res))
		nb = 0;					/* the partial list is not used */
	PQclear(res);
	return nb;
}

/*
 * Up to jobs - 1 bounds that cut the table, in the order verify_rows reads
 * it, into parts of about as many rows each, between chains: each bound is
 * the text of every key column of a row without a null key, the row at
 * i/jobs of the table (the chain index serves).  The planner's row count
 * is enough for that, when there is one; with one key column, its
 * histogram gives them without a pass.  Returns their number; *bounds
 * gets them.
 */
static int
part_bounds(const Table *t, int jobs, char ****bounds)
{
	Buf			sql = {0};
	char		off[32];
	const char *params[1] = {t->oid};
	PGresult   *res;
	char	 ***b = xmalloc(sizeof(char **) * jobs);
	double		n;
	int			nb = 0,
				i,
				j;

	if (t->nkeys == 1 && (nb = histogram_bounds(t, jobs, b)) > 0)
	{
		*bounds = b;
		return nb;
	}

	res = run("estimate the number of rows",
			  "SELECT reltuples FROM pg_catalog.pg_class"
			  " WHERE oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid",
			  1, params, 0);
	n = atof(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (n < 1)
	{
		append_str(&sql, "SELECT pg_catalog.count(*)");
		append_from_keyed(&sql, t);
		buf_u8(&sql, 0);
		res = run("count the rows", (char *) sql.data, 0, NULL, 0);
		n = atof(PQgetvalue(res, 0, 0));
		PQclear(res);
		sql.len = 0;
	}

	append_str(&sql, "SELECT ");
	for (i = 0; i < t->nkeys; i++)
	{
		if (i > 0)
			append_str(&sql, ", ");
		append_str(&sql, "pg_catalog.concat(");
		append_ident(&sql, t->keys[i].name);
		append_str(&sql, ")");
	}
	append_from_keyed(&sql, t);
	append_str(&sql, " ORDER BY ");
	for (i = 0; i < t->nkeys; i++)
	{
		append_ident(&sql, t->keys[i].name);
		append_str(&sql, ", ");
	}
	append_str(&sql, "chain_seq OFFSET $1::pg_catalog.int8 LIMIT 1");
	buf_u8(&sql, 0);
	params[0] = off;
	for (j = 1; j < jobs; j++)
	{
		bool		same = nb > 0;

		snprintf(off, sizeof(off), "%.0f", n * j / jobs);
		res = run("cut the table into parts for --jobs", (char *) sql.data, 1, params, 0);
		if (PQntuples(res) == 0)
		{
			PQclear(res);
			break;
		}
		for (i = 0; i < t->nkeys; i++)
			same = same && strcmp(b[nb - 1][i], PQgetvalue(res, 0, i)) == 0;
		if (!same)
		{
			b[nb] = xmalloc(sizeof(char *) * t->nkeys);
			for (i = 0; i < t->nkeys; i++)
				b[nb][i] = xstrdup(PQgetvalue(res, 0, i));
			nb++;
		}
		PQclear(res);
	}
	free(sql.data);
	*bounds = b;
	return nb;
}

static void
write_all(FILE *f, const void *p, size_t n)
{
	if (n > 0 && fwrite(p, 1, n, f) != n)
	{
		pg_error("could not write a temporary file: %s", strerror(errno));
		exit(EXIT_CANNOT);
	}
}

static bool
read_all(FILE *f, void *p, size_t n)
{
	return n == 0 || fread(p, 1, n, f) == n;
}

/*
 * One part, in a child process: its own connection on the parent's
 * snapshot, problems to out, then to stats its row, chain and problem
 * counts and the names of the recorded or attested chains it saw rows of.
 */
static void
verify_part(const Table *t, const ConnOptions *co, const char *snapshot,
			int fetch, char **lo, char **hi, FILE *out, FILE *stats)
{
	Buf			sql = {0};
	int64_t		counts[3];
	size_t		j;

	/* the parent's connection is the parent's: leave it alone */
	conn = NULL;
	nrows = nchains = nproblems = 0;
	if (dup2(fileno(out), STDOUT_FILENO) < 0)
	{
		pg_error("could not redirect standard output: %s", strerror(errno));
		exit(EXIT_CANNOT);
	}
	connect_db(co);
	PQclear(run("start a transaction",
				"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", 0, NULL, 0));
	append_str(&sql, "SET TRANSACTION SNAPSHOT '");
	append_str(&sql, snapshot);
	append_str(&sql, "'");
	buf_u8(&sql, 0);
	PQclear(run("import the snapshot", (char *) sql.data, 0, NULL, 0));
	free(sql.data);
	PQclear(run("turn off row security", "SET LOCAL row_security = off", 0, NULL, 0));
	PQclear(run("set the search path",
				"SELECT pg_catalog.set_config('search_path', '', false)", 0, NULL, 0));
	verify_rows(t, NULL, fetch, lo, hi);
	PQclear(run("end the transaction", "COMMIT", 0, NULL, 0));
	PQfinish(conn);
	conn = NULL;

	counts[0] = nrows;
	counts[1] = nchains;
	counts[2] = nproblems;
	write_all(stats, counts, sizeof(counts));
	for (j = 0; j < known_size && known_tab; j++)
	{
		Known	   *k;

		for (k = known_tab[j]; k; k = k->next)
			if (k->visited)
			{
				uint32_t	len = (uint32_t) strlen(k->name);

				write_all(stats, &len, sizeof(len));
				write_all(stats, k->name, len);
			}
	}
	if (fflush(stdout) != 0 || fflush(stats) != 0)
	{
		pg_error("could not write a temporary file: %s", strerror(errno));
		exit(EXIT_CANNOT);
	}
	exit(EXIT_INTACT);
}

/*
 * verify_rows with up to jobs connections, each a child process reading
 * one part of the table, cut between chains in the order of the serial
 * read, on the snapshot of the parent's transaction.  The parts' problems
 * are copied out in the order of the parts: the serial run's order.
 * Leaves with status 2 if a part could not be checked.
 */
static void
verify_jobs(const Table *t, const ConnOptions *co, int fetch, int jobs,
			const char *snapshot)
{
	char	 ***bounds;
	int			nparts = part_bounds(t, jobs, &bounds) + 1;
	FILE	  **out = xmalloc(sizeof(FILE *) * nparts);
	FILE	  **stats = xmalloc(sizeof(FILE *) * nparts);
	pid_t	   *pids = xmalloc(sizeof(pid_t) * nparts);
	bool		failed = false;
	int			p;

	fflush(stdout);
	fflush(stderr);
	for (p = 0; p < nparts; p++)
	{
		out[p] = tmpfile();
		stats[p] = tmpfile();
		if (out[p] == NULL || stats[p] == NULL)
		{
			pg_error("could not create a temporary file: %s", strerror(errno));
			failed = true;
			break;
		}
		pids[p] = fork();
		if (pids[p] < 0)
		{
			pg_error("could not start a process for --jobs: %s", strerror(errno));
			failed = true;
			break;
		}
		if (pids[p] == 0)
			verify_part(t, co, snapshot, fetch, p > 0 ? bounds[p - 1] : NULL,
						p < nparts - 1 ? bounds[p] : NULL, out[p], stats[p]);
	}
	nparts = p;

	/* all must end before the snapshot's transaction does */
	for (p = 0; p < nparts; p++)
	{
		int			status;

		while (waitpid(pids[p], &status, 0) < 0)
		{
			if (errno != EINTR)
			{
				pg_error("could not wait for a process of --jobs: %s", strerror(errno));
				cannot_check();
			}
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != EXIT_INTACT)
			failed = true;
	}

	/* the parts in order, as far as they were checked */
	for (p = 0; p < nparts; p++)
	{
		int64_t		counts[3];
		char		chunk[65536];
		size_t		n;
		uint32_t	len;

		rewind(out[p]);
		rewind(stats[p]);
		if (!read_all(stats[p], counts, sizeof(counts)))
			break;
		while ((n = fread(chunk, 1, sizeof(chunk), out[p])) > 0)
			fwrite(chunk, 1, n, stdout);
		nrows += counts[0];
		nchains += counts[1];
		nproblems += counts[2];
		while (read_all(stats[p], &len, sizeof(len)))
		{
			char	   *name = xmalloc(len + 1);
			Known	   *k;

			if (!read_all(stats[p], name, len))
			{
				pg_error("could not read a temporary file of --jobs");
				cannot_check();
			}
			name[len] = '\0';
			if ((k = known_get(name, false)) != NULL)
				k->visited = true;
			free(name);
		}
		fclose(out[p]);
		fclose(stats[p]);
	}
	if (failed || p < nparts)
	{
		fflush(stdout);
		cannot_check();
	}
	free(out);
	free(stats);
	free(pids);
}

/* ---- keygen and digest ------------------------------------------------------ */

/* Create path for writing, never over an existing file. */
static FILE *
create_file(const char *path, mode_t mode)
{
	int			fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	FILE	   *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (f == NULL)
	{
		pg_error("could not create file \"%s\": %s", path, strerror(errno));
		if (errno == EEXIST)
			pg_detail("Existing keys are never overwritten; choose another PREFIX.");
		cannot_check();
	}
	return f;
}

static void
close_file(FILE *f, const char *path)
{
	if (fflush(f) != 0 || ferror(f) || fclose(f) != 0)
	{
		pg_error("could not write file \"%s\": %s", path, strerror(errno));
		cannot_check();
	}
}

/*
 * keygen PREFIX: a new Ed25519 key pair, PREFIX.key (the private key,
 * PKCS#8 PEM, mode 0600) and PREFIX.pub (the public key, PEM).
 */
static int
keygen_main(int argc, char **argv)
{
	EVP_PKEY_CTX *pctx;
	EVP_PKEY   *pkey = NULL;
	char	   *keypath,
			   *pubpath;
	unsigned char pub[CHAIN_PUBKEY_LEN],
				id[CHAIN_HASH_LEN];
	char		idhex[2 * CHAIN_HASH_LEN + 1];
	FILE	   *f;

	if (argc != 2 || argv[1][0] == '-')
	{
		fprintf(stderr, "Usage: %s keygen PREFIX\n", progname);
		exit(EXIT_CANNOT);
	}
	keypath = xmalloc(strlen(argv[1]) + 5);
	sprintf(keypath, "%s.key", argv[1]);
	pubpath = xmalloc(strlen(argv[1]) + 5);
	sprintf(pubpath, "%s.pub", argv[1]);

	pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (pctx == NULL || EVP_PKEY_keygen_init(pctx) != 1 || EVP_PKEY_keygen(pctx, &pkey) != 1)
	{
		pg_error("could not generate an Ed25519 key: %s", openssl_error());
		cannot_check();
	}
	EVP_PKEY_CTX_free(pctx);
	key_public(pkey, pub, id);
	hex(id, idhex);

	f = create_file(keypath, 0600);
	if (PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) != 1)
	{
		pg_error("could not write file \"%s\": %s", keypath, openssl_error());
		cannot_check();
	}
	close_file(f, keypath);
	f = create_file(pubpath, 0644);
	if (PEM_write_PUBKEY(f, pkey) != 1)
	{
		pg_error("could not write file \"%s\": %s", pubpath, openssl_error());
		cannot_check();
	}
	close_file(f, pubpath);
	EVP_PKEY_free(pkey);
	printf("private key: %s (keep it outside the database server)\n", keypath);
	printf("public key:  %s (trust it with wallet_ops.trust_digest_key)\n", pubpath);
	printf("key id:      %s\n", idhex);
	return 0;
}

/*
 * digest [--sign-key KEY] [--output FILE] [CONNINFO] TABLE: the table's
 * digest (wallet_ops.chain_digest), signed with KEY when given, as one line
 * of JSON.  The signature member is appended to the digest's own text.
 */
static int
digest_main(int argc, char **argv)
{
	static struct option long_options[] = {
		{"sign-key", required_argument, NULL, 1},
		{"output", required_argument, NULL, 'o'},
		{"dbname", required_argument, NULL, 'd'},
		{"host", required_argument, NULL, 'h'},
		{"port", required_argument, NULL, 'p'},
		{"username", required_argument, NULL, 'U'},
		{"no-password", no_argument, NULL, 'w'},
		{NULL, 0, NULL, 0}
	};
	ConnOptions co = {0};
	const char *keyfile = NULL,
			   *output = NULL;
	const char *params[1];
	EVP_PKEY   *pkey = NULL;
	PGresult   *res;
	char	   *text;
	size_t		len;
	JParser		jp;
	JVal	   *root;
	Buf			out = {0};
	int			c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:d:h:p:U:w", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 1:
				keyfile = optarg;
				break;
			case 'o':
				output = optarg;
				break;
			default:
				if (conn_option(c, optarg, &co))
					break;
				fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
				exit(EXIT_CANNOT);
		}
	}
	if (argc - optind == 2 && co.dbname == NULL)
		co.dbname = argv[optind++];
	if (argc - optind != 1)
	{
		pg_error(argc - optind == 0 ? "no table given" : "too many command-line arguments");
		fprintf(stderr, "Usage: %s digest [--sign-key KEY] [--output FILE] [CONNINFO] TABLE\n", progname);
		exit(EXIT_CANNOT);
	}
	/* the key first: no digest is taken for nothing */
	if (keyfile)
		pkey = read_key(keyfile, true);

	connect_db(&co);
	params[0] = argv[optind];
	res = run("take the digest",
			  "SELECT wallet_ops.chain_digest($1::pg_catalog.regclass)::pg_catalog.text",
			  1, params, 0);
	text = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	conn = NULL;

	len = strlen(text);
	jp.p = text;
	jp.end = text + len;
	jp.err = NULL;
	root = j_value(&jp, 0);
	if (root == NULL || root->type != J_OBJ || len < 2 || text[len - 1] != '}')
	{
		pg_error("could not parse the digest the server returned: %s", jp.err ? jp.err : "not an object");
		cannot_check();
	}
	if (pkey == NULL)
		buf_put(&out, text, len);
	else
	{
		unsigned char pub[CHAIN_PUBKEY_LEN],
					id[CHAIN_HASH_LEN],
					sig[CHAIN_SIGNATURE_LEN];
		char		idhex[2 * CHAIN_HASH_LEN + 1];
		size_t		siglen = sizeof(sig);
		const char *missing;
		Buf			msg = {0};
		EVP_MD_CTX *ctx;
		int			i;

		key_public(pkey, pub, id);
		if (!signed_message(root, id, &msg, &missing))
		{
			pg_error("the digest the server returned has no field \"%s\"", missing);
			cannot_check();
		}
		/* Ed25519 hashes the message itself: no digest type (NULL) */
		ctx = EVP_MD_CTX_new();
		if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) != 1 ||
			EVP_DigestSign(ctx, sig, &siglen, msg.data, msg.len) != 1 ||
			siglen != CHAIN_SIGNATURE_LEN)
		{
			pg_error("could not sign the digest: %s", openssl_error());
			cannot_check();
		}
		EVP_MD_CTX_free(ctx);
		EVP_PKEY_free(pkey);
		if (!ed25519_verify(pub, sig, &msg))
		{
			pg_error("the signature just made does not verify");
			cannot_check();
		}
		hex(id, idhex);
		buf_put(&out, text, len - 1);
		append_str(&out, ", \"signature\": {\"algorithm\": \"" CHAIN_SIGNATURE_ALGORITHM "\", \"key_id\": \"");
		append_str(&out, idhex);
		append_str(&out, "\", \"value\": \"");
		for (i = 0; i < CHAIN_SIGNATURE_LEN; i += CHAIN_HASH_LEN)
		{
			hex(sig + i, idhex);
			append_str(&out, idhex);
		}
		append_str(&out, "\"}}");
		free(msg.data);
	}
	buf_u8(&out, '\n');

	if (output)
	{
		FILE	   *f = fopen(output, "w");

		if (f == NULL)
		{
			pg_error("could not open file \"%s\" for writing: %s", output, strerror(errno));
			cannot_check();
		}
		fwrite(out.data, 1, out.len, f);
		close_file(f, output);
	}
	else
	{
		fwrite(out.data, 1, out.len, stdout);
		fflush(stdout);
	}
	return 0;
}

/* ---- prove: one chain's proof, checked offline ----------------------------- */

/*
 * prove --digest PROOF --key KEY [--trusted-key PUB]... [-q]: check a proof
 * written by wallet_ops.chain_proof() (docs/hash-format.md, "Proof for one
 * chain") without a connection and without the digest's other chains: the
 * chain's leaf, folded with the path as the leaf index and the chain count
 * say, must give the digest's merkle_root, the proof must be of chain KEY,
 * and with --trusted-key the digest's signature must hold.  Problems:
 * proof_mismatch, wrong_chain and the signature problems of a digest.
 */
static int
prove_main(int argc, char **argv)
{
	static struct option long_options[] = {
		{"digest", required_argument, NULL, 1},
		{"key", required_argument, NULL, 2},
		{"trusted-key", required_argument, NULL, 3},
		{"quiet", no_argument, NULL, 'q'},
		{NULL, 0, NULL, 0}
	};
	const char *path = NULL,
			   *key = NULL,
			   *s;
	JVal	   *root,
			   *digest,
			   *chain,
			   *steps;
	const char *name,
			   *table,
			   *taken_at;
	int64_t		seq,
				index,
				count,
				i,
				n;
	unsigned char head[CHAIN_HASH_LEN],
				merkle[CHAIN_HASH_LEN],
				h[CHAIN_HASH_LEN];
	char		h1[2 * CHAIN_HASH_LEN + 1],
				h2[2 * CHAIN_HASH_LEN + 1];
	Buf			b = {0};
	int			c,
				p,
				level;

	optind = 1;
	while ((c = getopt_long(argc, argv, "q", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 1:
				path = optarg;
				break;
			case 2:
				key = optarg;
				break;
			case 3:
				add_trusted_key(optarg);
				break;
			case 'q':
				quiet = true;
				break;
			default:
				fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
				exit(EXIT_CANNOT);
		}
	}
	if (path == NULL || key == NULL || optind != argc)
	{
		pg_error(optind != argc ? "too many command-line arguments" :
				 path == NULL ? "no proof given (--digest)" : "no chain given (--key)");
		fprintf(stderr, "Usage: %s prove --digest PROOF --key CHAIN_KEY [--trusted-key PUB]... [-q]\n",
				progname);
		exit(EXIT_CANNOT);
	}

	root = read_json_file(path, "proof");
	s = j_text(root, "format");
	digest = j_member(root, "digest");
	chain = j_member(root, "chain");
	steps = j_member(root, "path");
	if (s == NULL || strcmp(s, CHAIN_PROOF_FORMAT) != 0)
	{
		pg_error("file \"%s\" has format \"%s\", not \"%s\"", path, s ? s : "",
				 CHAIN_PROOF_FORMAT);
		pg_detail(s && strcmp(s, CHAIN_DIGEST_FORMAT) == 0 ?
				  "It is a whole digest: make the proof of one chain with wallet_ops.chain_proof(table, chain_key, digest)." :
				  "Save the output of wallet_ops.chain_proof() as it is.");
		cannot_check();
	}
	s = j_text(digest, "format");
	if (digest == NULL || digest->type != J_OBJ || s == NULL ||
		strcmp(s, CHAIN_DIGEST_FORMAT) != 0 ||
		(s = j_text(digest, "hash_format")) == NULL || strcmp(s, CHAIN_ROW_DOMAIN) != 0 ||
		!unhex(j_text(digest, "merkle_root"), merkle) ||
		!j_int64(digest, "chain_count", &count) || count < 1)
	{
		pg_error("proof file \"%s\" has no valid digest member", path);
		pg_detail("It needs format \"%s\", hash_format \"%s\", merkle_root and a chain_count of at least 1.",
				  CHAIN_DIGEST_FORMAT, CHAIN_ROW_DOMAIN);
		cannot_check();
	}
	name = j_text(chain, "chain_key");
	if (chain == NULL || chain->type != J_OBJ || name == NULL ||
		j_member(chain, "chain_key")->type != J_STR ||
		!j_int64(chain, "last_seq", &seq) || seq < 1 ||
		!unhex(j_text(chain, "head_hash"), head))
	{
		pg_error("proof file \"%s\" has no valid chain member", path);
		pg_detail("It needs chain_key (a string), last_seq (at least 1) and head_hash (64 hexadecimal digits).");
		cannot_check();
	}
	if (!j_int64(root, "leaf_index", &index) || index < 0 ||
		steps == NULL || steps->type != J_ARR || steps->n > 64)
	{
		pg_error("proof file \"%s\" has no valid leaf_index or path", path);
		pg_detail("leaf_index is an integer from 0, path an array of at most 64 steps.");
		cannot_check();
	}
	for (p = 0; p < steps->n; p++)
	{
		s = j_text(steps->vals[p], "side");
		if (s == NULL || (strcmp(s, "left") != 0 && strcmp(s, "right") != 0) ||
			!unhex(j_text(steps->vals[p], "hash"), h))
		{
			pg_error("step %d of the path in proof file \"%s\" is malformed", p + 1, path);
			pg_detail("A step is {\"side\": \"left\" or \"right\", \"hash\": 64 hexadecimal digits}.");
			cannot_check();
		}
	}

	if (strcmp(name, key) != 0)
	{
		problem(name, false, 0, "wrong_chain", "the proof is of chain \"%s\", not of \"%s\"",
				name, key);
	}
	check_signature(digest, path);

	/* the leaf, then up the tree as the digest built it */
	buf_u8(&b, CHAIN_MERKLE_LEAF);
	buf_bytes(&b, CHAIN_DIGEST_DOMAIN, strlen(CHAIN_DIGEST_DOMAIN));
	buf_bytes(&b, name, strlen(name));
	buf_i64(&b, seq);
	buf_put(&b, head, CHAIN_HASH_LEN);
	sha256(b.data, b.len, h);
	free(b.data);
	if (index >= count)
		problem(name, true, seq, "proof_mismatch",
				"leaf_index %" PRId64 " is not below the digest's chain_count %" PRId64,
				index, count);
	else
	{
		bool		shape_ok = true;

		for (i = index, n = count, p = 0, level = 1; n > 1; i /= 2, n = (n + 1) / 2, level++)
		{
			unsigned char node[1 + 2 * CHAIN_HASH_LEN],
						sibling[CHAIN_HASH_LEN];
			bool		left = i % 2 == 1;

			if (!left && i + 1 >= n)
				continue;		/* carried up unchanged: no sibling */
			if (p >= steps->n || strcmp(j_text(steps->vals[p], "side"), left ? "left" : "right") != 0)
			{
				problem(name, true, seq, "proof_mismatch",
						"leaf %" PRId64 " of %" PRId64 " has a sibling on the %s at level %d, but step %d of the path %s",
						index, count, left ? "left" : "right", level, p + 1,
						p >= steps->n ? "is missing" : "is on the other side");
				shape_ok = false;
				break;
			}
			(void) unhex(j_text(steps->vals[p], "hash"), sibling);
			node[0] = CHAIN_MERKLE_NODE;
			memcpy(node + 1, left ? sibling : h, CHAIN_HASH_LEN);
			memcpy(node + 1 + CHAIN_HASH_LEN, left ? h : sibling, CHAIN_HASH_LEN);
			sha256(node, sizeof(node), h);
			p++;
		}
		if (shape_ok && p != steps->n)
			problem(name, true, seq, "proof_mismatch",
					"leaf %" PRId64 " of %" PRId64 " has %d siblings on its way up, but the path has %d steps",
					index, count, p, steps->n);
		else if (shape_ok && memcmp(h, merkle, CHAIN_HASH_LEN) != 0)
		{
			hex(merkle, h1);
			hex(h, h2);
			problem(name, true, seq, "proof_mismatch",
					"the chain's leaf and the path lead to %s, not to the digest's merkle_root %s",
					h2, h1);
		}
	}

	if (!quiet)
	{
		table = j_text(digest, "table");
		taken_at = j_text(digest, "taken_at");
		printf("proof of chain ");
		print_name(stdout, name);
		printf(" (last_seq %" PRId64 ") in the digest of %s%s%s: leaf %" PRId64 " of %" PRId64
			   ", path of %d hash%s", seq, table ? table : "(no table)",
			   taken_at ? " taken at " : "", taken_at ? taken_at : "", index, count,
			   steps->n, steps->n == 1 ? "" : "es");
		if (signature_note)
			printf(", %s", signature_note);
		else if (j_member(digest, "signature") == NULL)
			printf(", not signed");
		if (nproblems == 0)
			printf(": valid\n");
		else
			printf(": %" PRId64 " problem%s found\n", nproblems, nproblems == 1 ? "" : "s");
	}
	fflush(stdout);
	return nproblems == 0 ? EXIT_INTACT : EXIT_PROBLEMS;
}

/* ---- main ------------------------------------------------------------------ */

/* The commands besides verifying, each given its own argv from its name on. */
static const struct
{
	const char *name;
	int			(*main) (int argc, char **argv);
}			subcommands[] = {
	{"keygen", keygen_main},
	{"digest", digest_main},
	{"prove", prove_main},
};

static int
subcommand_index(int argc, char **argv)
{
	for (int i = 0; i < (int) (sizeof(subcommands) / sizeof(subcommands[0])); i++)
	{
		if (argc > 1 && strcmp(argv[1], subcommands[i].name) == 0)
			return i;
	}
	return -1;
}

/* --help or -? as the first argument, or right after a subcommand */
static bool
help_asked(int argc, char **argv)
{
	int			i = subcommand_index(argc, argv) >= 0 ? 2 : 1;

	return argc > i && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-?") == 0);
}

static void
usage(void)
{
	printf("%s recomputes the hashes of a wallet_ops hash-chained table outside the server.\n\n",
		   progname);
	printf("Usage:\n");
	printf("  %s [OPTION]... [DBNAME|CONNINFO] TABLE\n", progname);
	printf("  %s digest [--sign-key=KEY] [--output=FILE] [DBNAME|CONNINFO] TABLE\n", progname);
	printf("  %s keygen PREFIX\n", progname);
	printf("  %s prove --digest=PROOF --key=CHAIN_KEY [--trusted-key=FILE]... [-q]\n\n", progname);
	printf("The first form verifies TABLE.  \"digest\" writes the table's digest\n"
		   "(wallet_ops.chain_digest), signed with the Ed25519 private key in KEY when\n"
		   "given; \"keygen\" writes a new key pair to PREFIX.key and PREFIX.pub;\n"
		   "\"prove\" checks, offline, a proof that a digest attests chain CHAIN_KEY\n"
		   "(saved from wallet_ops.chain_proof()), and its signature with --trusted-key.\n\n");
	printf("Options:\n");
	printf("      --chain=VALUE        verify only the chain named VALUE (as in chain_heads.chain_key)\n");
	printf("      --digest=FILE        also check that every chain extends what the digest\n"
		   "                           in FILE (saved from wallet_ops.chain_digest(); - for\n"
		   "                           standard input) attested\n");
	printf("      --trusted-key=FILE   check the digest's signature against this Ed25519\n"
		   "                           public key (repeatable); the digest must be signed\n");
	printf("      --fetch-size=N       rows fetched per round trip (default 1000)\n");
	printf("  -j, --jobs=N             verify with N connections on one snapshot, N parts\n"
		   "                           of the table's chains (default 1); same output\n");
	printf("  -q, --quiet              print problems only, no summary\n");
	printf("  -V, --version            output version information, then exit\n");
	printf("  -?, --help               show this help, then exit\n");
	printf("\nOptions of digest:\n");
	printf("      --sign-key=KEY       sign the digest with the Ed25519 private key in KEY\n"
		   "                           (PEM, as keygen writes it)\n");
	printf("  -o, --output=FILE        write the digest to FILE, not to standard output\n");
	printf("\nConnection options:\n");
	printf("  -d, --dbname=DBNAME      database name or connection string\n");
	printf("  -h, --host=HOSTNAME      database server host or socket directory\n");
	printf("  -p, --port=PORT          database server port\n");
	printf("  -U, --username=USERNAME  user name to connect as\n");
	printf("  -w, --no-password        never prompt for password\n");
	printf("\nExit status: 0 intact, 1 problems found, 2 could not check.\n");
	printf("Problems are printed one per line on standard output as\n"
		   "  PROBLEM: chain \"CHAIN_KEY\" chain_seq N: DETAIL\n"
		   "with the problem names of wallet_ops.verify_chain().\n");
	printf("\nThe PG* environment variables and ~/.pgpass apply as in psql.\n"
		   "See the manual page wallet_ops_verify(1).\n");
}

/*
 * --list-type-tags, not in --help: each type the format encodes, as
 * "oid<TAB>type<TAB>tag", with the tag this program writes for it.  The
 * tests compare it with the tags the server writes (t/016_chain_format.pl).
 */
static void
list_type_tags(void)
{
	int			n;
	const ChainFormatType *types = chain_format_types(&n);
	int			i;

	for (i = 0; i < n; i++)
	{
		bool		is_cidr;

		printf("%u\t%s\t%c\n", types[i].typid, types[i].typname,
			   scalar_tag(types[i].typid, &is_cidr));
	}
}

int
main(int argc, char **argv)
{
	static struct option long_options[] = {
		{"chain", required_argument, NULL, 1},
		{"digest", required_argument, NULL, 2},
		{"fetch-size", required_argument, NULL, 3},
		{"jobs", required_argument, NULL, 'j'},
		{"list-type-tags", no_argument, NULL, 4},	/* for the tests */
		{"trusted-key", required_argument, NULL, 5},
		{"dbname", required_argument, NULL, 'd'},
		{"host", required_argument, NULL, 'h'},
		{"port", required_argument, NULL, 'p'},
		{"username", required_argument, NULL, 'U'},
		{"no-password", no_argument, NULL, 'w'},
		{"quiet", no_argument, NULL, 'q'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, '?'},
		{NULL, 0, NULL, 0}
	};
	ConnOptions co = {0};
	const char *only = NULL,
			   *digest = NULL,
			   *table;
	int			fetch = 1000;
	int			jobs = 1;
	char	   *snapshot = NULL;
	int			c,
				sub;
	Table		t;

	progname = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	/* one help for every command: the subcommands' options are in it too */
	if (help_asked(argc, argv))
	{
		usage();
		exit(0);
	}
	if ((sub = subcommand_index(argc, argv)) >= 0)
		return subcommands[sub].main(argc - 1, argv + 1);
	if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0))
	{
		printf("%s (wallet_ops) %s\n", progname, WALLET_OPS_VERSION);
		exit(0);
	}
	while ((c = getopt_long(argc, argv, "d:h:p:U:wj:qV?", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 1:
				only = optarg;
				break;
			case 2:
				digest = optarg;
				break;
			case 3:
				fetch = atoi(optarg);
				if (fetch < 1 || fetch > 1000000)
				{
					pg_error("--fetch-size must be between 1 and 1000000");
					exit(EXIT_CANNOT);
				}
				break;
			case 'j':
				jobs = atoi(optarg);
				if (jobs < 1 || jobs > 64)
				{
					pg_error("-j/--jobs must be between 1 and 64");
					exit(EXIT_CANNOT);
				}
				break;
			case 4:
				list_type_tags();
				exit(0);
			case 5:
				add_trusted_key(optarg);
				break;
			case 'q':
				quiet = true;
				break;
			case 'V':
				printf("%s (wallet_ops) %s\n", progname, WALLET_OPS_VERSION);
				exit(0);
			default:
				if (conn_option(c, optarg, &co))
					break;
				fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
				exit(EXIT_CANNOT);
		}
	}
	if (argc - optind == 2 && co.dbname == NULL)
		co.dbname = argv[optind++];
	if (argc - optind != 1)
	{
		pg_error(argc - optind == 0 ? "no table given" : "too many command-line arguments (first is \"%s\")",
				 argv[optind + 1 < argc ? optind + 1 : optind]);
		fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
		exit(EXIT_CANNOT);
	}
	table = argv[optind];

	connect_db(&co);

	/*
	 * One snapshot for the heads and the rows.  row_security off: a policy
	 * that would hide rows makes the query fail instead of looking like a
	 * truncated chain.
	 */
	PQclear(run("start a transaction",
				"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", 0, NULL, 0));
	PQclear(run("turn off row security", "SET LOCAL row_security = off", 0, NULL, 0));

	load_table(&t, table);
	if (only && t.nkeys == 0 && only[0] != '\0')
	{
		pg_error("table %s has a single hash chain, named ''", t.qualname);
		cannot_check();
	}
	/* --jobs: the snapshot to share, exported outside the savepoint */
	if (jobs > 1 && only == NULL && t.nkeys > 0)
	{
		PGresult   *res = run("export the snapshot",
							  "SELECT pg_catalog.pg_export_snapshot()", 0, NULL, 0);

		snapshot = xstrdup(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	PQclear(run("set a savepoint", "SAVEPOINT heads", 0, NULL, 0));
	load_heads(&t, only);
	if (digest)
		load_digest(digest, only);
	/* one chain (--chain, no key columns) or Citus: one connection */
	if (snapshot && !distributed_table)
		verify_jobs(&t, &co, fetch, jobs, snapshot);
	else
		verify_rows(&t, only, fetch, NULL, NULL);
	check_unvisited();
	PQclear(run("end the transaction", "COMMIT", 0, NULL, 0));
	if (only && nrows == 0 && known_count == 0)
	{
		pg_error("table %s has no chain named \"%s\"", t.qualname, only);
		pg_detail("The chain has no rows, no recorded head and is not in the digest.");
		cannot_check();
	}
	PQfinish(conn);
	conn = NULL;

	if (!quiet)
	{
		printf("%s: %" PRId64 " row%s in %" PRId64 " chain%s", t.qualname,
			   nrows, nrows == 1 ? "" : "s", nchains, nchains == 1 ? "" : "s");
		if (digest)
			printf(", %d chain%s attested by the digest%s%s", digest_nchains,
				   digest_nchains == 1 ? "" : "s",
				   digest_taken_at ? " of " : "", digest_taken_at ? digest_taken_at : "");
		if (signature_note)
			printf(", %s", signature_note);
		if (nproblems == 0)
			printf(": intact\n");
		else
			printf(": %" PRId64 " problem%s found\n", nproblems, nproblems == 1 ? "" : "s");
	}
	fflush(stdout);
	return nproblems == 0 ? EXIT_INTACT : EXIT_PROBLEMS;
}
