/*-------------------------------------------------------------------------
 *
 * chain_hash.c
 *		The canonical encoding of a row of a hash-chained table and its
 *		SHA-256 (docs/hash-format.md, format version 1).
 *
 * Every value is encoded from its stored binary form, never through a
 * text output that depends on session settings; text-like values are
 * converted to UTF-8 when the database encoding is not UTF-8.  One OpenSSL
 * EVP_MD_CTX is kept per backend and reinitialised for each digest, so an
 * error between two digests leaks nothing.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_hash.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <sys/socket.h>
#include <openssl/evp.h>

#include "catalog/pg_type.h"
#include "common/sha2.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/inet.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "chain_hash.h"

static EVP_MD_CTX *chain_md_ctx = NULL;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
static EVP_MD *chain_md = NULL;
#else
static const EVP_MD *chain_md = NULL;
#endif

/* One reusable buffer for the message being hashed. */
static StringInfoData chain_msg;
static bool chain_msg_ready = false;

/*
 * chain_format.h, shared with the outside verifier, cannot include the
 * catalog's headers: its OIDs must be the catalog's.
 */
StaticAssertDecl(CHAIN_BOOLOID == BOOLOID, "BOOLOID");
StaticAssertDecl(CHAIN_BYTEAOID == BYTEAOID, "BYTEAOID");
StaticAssertDecl(CHAIN_NAMEOID == NAMEOID, "NAMEOID");
StaticAssertDecl(CHAIN_INT8OID == INT8OID, "INT8OID");
StaticAssertDecl(CHAIN_INT2OID == INT2OID, "INT2OID");
StaticAssertDecl(CHAIN_INT4OID == INT4OID, "INT4OID");
StaticAssertDecl(CHAIN_TEXTOID == TEXTOID, "TEXTOID");
StaticAssertDecl(CHAIN_JSONOID == JSONOID, "JSONOID");
StaticAssertDecl(CHAIN_CIDROID == CIDROID, "CIDROID");
StaticAssertDecl(CHAIN_FLOAT4OID == FLOAT4OID, "FLOAT4OID");
StaticAssertDecl(CHAIN_FLOAT8OID == FLOAT8OID, "FLOAT8OID");
StaticAssertDecl(CHAIN_INETOID == INETOID, "INETOID");
StaticAssertDecl(CHAIN_BPCHAROID == BPCHAROID, "BPCHAROID");
StaticAssertDecl(CHAIN_VARCHAROID == VARCHAROID, "VARCHAROID");
StaticAssertDecl(CHAIN_DATEOID == DATEOID, "DATEOID");
StaticAssertDecl(CHAIN_TIMESTAMPOID == TIMESTAMPOID, "TIMESTAMPOID");
StaticAssertDecl(CHAIN_TIMESTAMPTZOID == TIMESTAMPTZOID, "TIMESTAMPTZOID");
StaticAssertDecl(CHAIN_INTERVALOID == INTERVALOID, "INTERVALOID");
StaticAssertDecl(CHAIN_NUMERICOID == NUMERICOID, "NUMERICOID");
StaticAssertDecl(CHAIN_UUIDOID == UUIDOID, "UUIDOID");
StaticAssertDecl(CHAIN_JSONBOID == JSONBOID, "JSONBOID");
StaticAssertDecl(CHAIN_HASH_LEN == PG_SHA256_DIGEST_LENGTH, "SHA-256");

/*
 * The tag of a (non-array) base type, or 0 when the format cannot encode it:
 * chain_format.h's table, which the outside verifier reads as well.
 */
static char
chain_scalar_tag(Oid typid, bool *is_cidr)
{
	const ChainFormatType *t = chain_format_type(typid);

	*is_cidr = t != NULL && t->is_cidr;
	return t != NULL ? t->tag : 0;
}

/*
 * The field tag of a column type (domains resolved), 'A' for an array of a
 * supported type, 0 when the type cannot be hashed canonically.
 */
char
ChainTypeTag(Oid typid, bool *is_array)
{
	Oid			base = getBaseType(typid);
	Oid			elem;
	bool		is_cidr;

	*is_array = false;
	elem = get_element_type(base);
	if (OidIsValid(elem) && base != NAMEOID)
	{
		elem = getBaseType(elem);
		if (OidIsValid(get_element_type(elem)))
			return 0;
		if (chain_scalar_tag(elem, &is_cidr) == 0)
			return 0;
		*is_array = true;
		return CHAIN_TAG_ARRAY;
	}
	return chain_scalar_tag(base, &is_cidr);
}

/* Chain key columns need a text output that no setting can change. */
bool
ChainKeyTypeSupported(Oid typid)
{
	const ChainFormatType *t = chain_format_type(getBaseType(typid));

	return t != NULL && t->key_ok;
}

void
ChainColumnInit(ChainColumn *col, const char *name, AttrNumber attnum,
				Oid typid, bool is_key)
{
	bool		is_array;

	memset(col, 0, sizeof(ChainColumn));
	namestrcpy(&col->name, name);
	col->attnum = attnum;
	col->typid = typid;
	col->basetypid = getBaseType(typid);
	col->tag = ChainTypeTag(typid, &is_array);
	if (col->tag == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("column \"%s\" has type %s, which cannot be hashed canonically",
						name, format_type_be(typid))));
	(void) chain_scalar_tag(col->basetypid, &col->is_cidr);
	if (is_array)
	{
		col->elemtypid = getBaseType(get_element_type(col->basetypid));
		col->elemtag = chain_scalar_tag(col->elemtypid, &col->elem_is_cidr);
		get_typlenbyvalalign(col->elemtypid, &col->elemlen, &col->elembyval,
							 &col->elemalign);
	}
	if (is_key)
	{
		Oid			outfn;
		bool		isvarlena;

		getTypeOutputInfo(typid, &outfn, &isvarlena);
		fmgr_info_cxt(outfn, &col->outfunc, CurrentMemoryContext);
	}
}

/* ---- primitives ------------------------------------------------------- */

/*
 * The message is built with these rather than appendBinaryStringInfo: a
 * row is a few dozen small pieces, and the out-of-line call (plus its
 * enlargeStringInfo call and NUL terminator) per piece was a tenth of a
 * verification.  The message is binary, so it is not NUL-terminated.
 */
static inline void
chain_reserve(StringInfo buf, int n)
{
	if (unlikely(buf->maxlen - buf->len <= n))
		enlargeStringInfo(buf, n);
}

static inline void
chain_put(StringInfo buf, const void *p, int n)
{
	chain_reserve(buf, n);
	memcpy(buf->data + buf->len, p, n);
	buf->len += n;
}

static inline void
chain_put_u32(StringInfo buf, uint32 v)
{
	uint32		be = pg_hton32(v);

	chain_put(buf, &be, 4);
}

static inline void
chain_put_i64(StringInfo buf, int64 v)
{
	uint64		be = pg_hton64((uint64) v);

	chain_put(buf, &be, 8);
}

static inline void
chain_append_u8(StringInfo buf, uint8 v)
{
	chain_reserve(buf, 1);
	buf->data[buf->len++] = (char) v;
}

/* Overwrite the u32 reserved at "at" with the length of what followed it. */
static inline void
chain_patch_len(StringInfo buf, int at)
{
	uint32		be = pg_hton32((uint32) (buf->len - at - 4));

	memcpy(buf->data + at, &be, 4);
}

void
ChainAppendU32(StringInfo buf, uint32 v)
{
	chain_put_u32(buf, v);
}

void
ChainAppendI64(StringInfo buf, int64 v)
{
	chain_put_i64(buf, v);
}

/* bytes(s) = u32(len) || s */
void
ChainEncodeString(StringInfo buf, const char *s, size_t len)
{
	chain_put_u32(buf, (uint32) len);
	chain_put(buf, s, (int) len);
}

/* Text in the database encoding, appended as UTF-8 bytes(). */
static void
chain_append_text(StringInfo buf, const char *s, int len)
{
	char	   *conv;

	if (GetDatabaseEncoding() == PG_UTF8 || GetDatabaseEncoding() == PG_SQL_ASCII)
	{
		ChainEncodeString(buf, s, len);
		return;
	}
	conv = pg_server_to_any(s, len, PG_UTF8);
	if (conv == s)
		ChainEncodeString(buf, s, len);
	else
	{
		ChainEncodeString(buf, conv, strlen(conv));
		pfree(conv);
	}
}

/*
 * Whether any of the 8 bytes of w needs escaping in a JSON string: a
 * control character (< 0x20), '"' or '\\'.  The usual "has a zero byte"
 * and "has a byte less than n" word tricks; exact, no false positives.
 */
static inline bool
chain_json_word_needs_escape(uint64 w)
{
	const uint64 ones = UINT64CONST(0x0101010101010101);
	const uint64 highs = UINT64CONST(0x8080808080808080);
	uint64		quote = w ^ (ones * '"');
	uint64		backslash = w ^ (ones * '\\');

	return (((w - ones * 0x20) & ~w) |
			((quote - ones) & ~quote) |
			((backslash - ones) & ~backslash)) & highs;
}

/* Whether escape_json() writes byte c other than as itself (or stops at it). */
static inline bool
chain_json_byte_needs_escape(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

/* Whether a JSON string of len bytes at s needs any escaping (or has a NUL). */
static inline bool
chain_json_needs_escape(const char *s, int len)
{
	uint64		w;

	for (; len >= 8; s += 8, len -= 8)
	{
		memcpy(&w, s, 8);
		if (chain_json_word_needs_escape(w))
			return true;
	}
	for (; len > 0; s++, len--)
	{
		if (chain_json_byte_needs_escape((unsigned char) *s))
			return true;
	}
	return false;
}

/*
 * A jsonb string as escape_json() writes it.  Most strings need no
 * escaping and are copied whole; otherwise runs of plain bytes are copied
 * at once.  (escape_json gets a NUL-terminated copy: stop at a NUL
 * likewise.)
 */
static void
chain_append_json_string(StringInfo buf, const char *s, int len)
{
	const char *end = s + len;
	const char *run = s;

	chain_reserve(buf, len + 2);
	buf->data[buf->len++] = '"';
	if (likely(!chain_json_needs_escape(s, len)))
	{
		memcpy(buf->data + buf->len, s, len);
		buf->len += len;
		buf->data[buf->len++] = '"';
		return;
	}
	for (; s < end; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (!chain_json_byte_needs_escape(c))
			continue;
		if (s > run)
			chain_put(buf, run, s - run);
		run = s + 1;
		if (c == '\0')
		{
			run = end;
			break;
		}
		switch (c)
		{
			case '\b':
				chain_put(buf, "\\b", 2);
				break;
			case '\f':
				chain_put(buf, "\\f", 2);
				break;
			case '\n':
				chain_put(buf, "\\n", 2);
				break;
			case '\r':
				chain_put(buf, "\\r", 2);
				break;
			case '\t':
				chain_put(buf, "\\t", 2);
				break;
			case '"':
				chain_put(buf, "\\\"", 2);
				break;
			case '\\':
				chain_put(buf, "\\\\", 2);
				break;
			default:
				appendStringInfo(buf, "\\u%04x", (int) c);
				break;
		}
	}
	if (end > run)
		chain_put(buf, run, end - run);
	chain_append_u8(buf, '"');
}

static void chain_append_jsonb_container(StringInfo buf,
										 const JsonbContainer *jc);

/*
 * Child "index" of container jc, whose data starts at "base": its bytes
 * are base[start .. end), as fillJsonbValue() reads them.
 */
static void
chain_append_jsonb_child(StringInfo buf, const JsonbContainer *jc,
						 const char *base, int index, uint32 start, uint32 end)
{
	JEntry		entry = jc->children[index];

	if (JBE_ISSTRING(entry))
		chain_append_json_string(buf, base + start, end - start);
	else if (JBE_ISNUMERIC(entry))
	{
		char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out,
															PointerGetDatum(base + INTALIGN(start))));

		chain_put(buf, s, strlen(s));
		pfree(s);
	}
	else if (JBE_ISBOOL_TRUE(entry))
		chain_put(buf, "true", 4);
	else if (JBE_ISBOOL_FALSE(entry))
		chain_put(buf, "false", 5);
	else if (JBE_ISNULL(entry))
		chain_put(buf, "null", 4);
	else if (JBE_ISCONTAINER(entry))
		chain_append_jsonb_container(buf,
									 (const JsonbContainer *) (base + INTALIGN(start)));
	else
		elog(ERROR, "unknown jsonb entry type 0x%08x", (unsigned) entry);
}

/* The end offset of child "index" whose data starts at "start". */
static inline uint32
chain_jsonb_child_end(const JsonbContainer *jc, int index, uint32 start)
{
	JEntry		entry = jc->children[index];

	return JBE_HAS_OFF(entry) ? JBE_OFFLENFLD(entry) : start + JBE_OFFLENFLD(entry);
}

/*
 * Append exactly the text JsonbToCString() makes of a jsonb container (the
 * canonical form, docs/hash-format.md): '{"k": v, ...}', '[a, b]', a raw
 * scalar bare.  It reads the container's entries in place instead of
 * through a JsonbIterator, which allocates an iterator per container and
 * copies every value into a JsonbValue: that was a third of the time of a
 * verification.  sql/chain_03_types.sql checks it against jsonb::text.
 */
static void
chain_append_jsonb_container(StringInfo buf, const JsonbContainer *jc)
{
	uint32		count = jc->header & JB_CMASK;
	uint32		i;

	check_stack_depth();
	if (jc->header & JB_FOBJECT)
	{
		/* keys are children 0 .. count-1, their values count .. 2*count-1 */
		const char *base = (const char *) &jc->children[count * 2];
		uint32		kstart = 0;
		uint32		vstart = count > 0 ? getJsonbOffset(jc, count) : 0;

		chain_append_u8(buf, '{');
		for (i = 0; i < count; i++)
		{
			uint32		kend = chain_jsonb_child_end(jc, i, kstart);
			uint32		vend = chain_jsonb_child_end(jc, i + count, vstart);

			if (i > 0)
				chain_put(buf, ", ", 2);
			if (unlikely(!JBE_ISSTRING(jc->children[i])))
				elog(ERROR, "jsonb object key is not a string");
			chain_append_json_string(buf, base + kstart, kend - kstart);
			chain_put(buf, ": ", 2);
			chain_append_jsonb_child(buf, jc, base, i + count, vstart, vend);
			kstart = kend;
			vstart = vend;
		}
		chain_append_u8(buf, '}');
	}
	else if (jc->header & JB_FARRAY)
	{
		const char *base = (const char *) &jc->children[count];
		bool		raw_scalar = (jc->header & JB_FSCALAR) != 0;
		uint32		start = 0;

		if (!raw_scalar)
			chain_append_u8(buf, '[');
		for (i = 0; i < count; i++)
		{
			uint32		end = chain_jsonb_child_end(jc, i, start);

			if (i > 0)
				chain_put(buf, ", ", 2);
			chain_append_jsonb_child(buf, jc, base, i, start, end);
			start = end;
		}
		if (!raw_scalar)
			chain_append_u8(buf, ']');
	}
	else
		elog(ERROR, "unknown type of jsonb container");
}

/*
 * Append bytes(canonical) of one non-NULL scalar value with tag "tag" of
 * base type "typid".
 */
static void
chain_append_canonical(StringInfo buf, char tag, Oid typid, bool is_cidr,
					   Datum value)
{
	switch (tag)
	{
		case CHAIN_TAG_BOOL:
			chain_put_u32(buf, 1);
			chain_append_u8(buf, DatumGetBool(value) ? 1 : 0);
			break;
		case CHAIN_TAG_INT:
			{
				int64		v;

				if (typid == INT2OID)
					v = DatumGetInt16(value);
				else if (typid == INT4OID)
					v = DatumGetInt32(value);
				else
					v = DatumGetInt64(value);
				chain_put_u32(buf, 8);
				chain_put_i64(buf, v);
				break;
			}
		case CHAIN_TAG_NUMERIC:
			{
				char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, value));

				ChainEncodeString(buf, s, strlen(s));
				pfree(s);
				break;
			}
		case CHAIN_TAG_FLOAT:
			{
				double		d;
				union
				{
					double		d;
					int64		i;
				}			u;

				if (typid == FLOAT4OID)
					d = (double) DatumGetFloat4(value);
				else
					d = DatumGetFloat8(value);
				if (isnan(d))
					u.i = INT64CONST(0x7FF8000000000000);
				else
					u.d = d;
				chain_put_u32(buf, 8);
				chain_put_i64(buf, u.i);
				break;
			}
		case CHAIN_TAG_TEXT:
			if (typid == NAMEOID)
			{
				const char *s = NameStr(*DatumGetName(value));

				chain_append_text(buf, s, strlen(s));
			}
			else
			{
				text	   *t = DatumGetTextPP(value);

				chain_append_text(buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
			}
			break;
		case CHAIN_TAG_JSON:
			{
				text	   *t = DatumGetTextPP(value);

				chain_append_text(buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
				break;
			}
		case CHAIN_TAG_JSONB:
			{
				Jsonb	   *jb = DatumGetJsonbP(value);

				if (GetDatabaseEncoding() == PG_UTF8 ||
					GetDatabaseEncoding() == PG_SQL_ASCII)
				{
					/* the text straight into the message, length patched */
					int			at = buf->len;

					chain_put_u32(buf, 0);
					chain_reserve(buf, VARSIZE(jb));
					chain_append_jsonb_container(buf, &jb->root);
					chain_patch_len(buf, at);
				}
				else
				{
					char	   *s = JsonbToCString(NULL, &jb->root, VARSIZE(jb));

					chain_append_text(buf, s, strlen(s));
					pfree(s);
				}
				break;
			}
		case CHAIN_TAG_BYTEA:
			{
				bytea	   *b = DatumGetByteaPP(value);

				ChainEncodeString(buf, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
				break;
			}
		case CHAIN_TAG_UUID:
			{
				pg_uuid_t  *u = DatumGetUUIDP(value);

				ChainEncodeString(buf, (char *) u->data, UUID_LEN);
				break;
			}
		case CHAIN_TAG_TIMESTAMPTZ:
		case CHAIN_TAG_TIMESTAMP:
			chain_put_u32(buf, 8);
			chain_put_i64(buf, DatumGetInt64(value));
			break;
		case CHAIN_TAG_DATE:
			chain_put_u32(buf, 4);
			chain_put_u32(buf, (uint32) DatumGetDateADT(value));
			break;
		case CHAIN_TAG_INET:
			{
				inet	   *ip = DatumGetInetPP(value);
				int			alen = ip_family(ip) == PGSQL_AF_INET ? 4 : 16;

				chain_put_u32(buf, 3 + alen);
				chain_append_u8(buf, alen == 4 ? CHAIN_INET_V4 : CHAIN_INET_V6);
				chain_append_u8(buf, ip_bits(ip));
				chain_append_u8(buf, is_cidr ? 1 : 0);
				chain_put(buf, ip_addr(ip), alen);
				break;
			}
		case CHAIN_TAG_INTERVAL:
			{
				Interval   *iv = DatumGetIntervalP(value);

				chain_put_u32(buf, 16);
				chain_put_i64(buf, iv->time);
				chain_put_u32(buf, (uint32) iv->day);
				chain_put_u32(buf, (uint32) iv->month);
				break;
			}
		default:
			elog(ERROR, "unexpected hash field tag \"%c\"", tag);
	}
}

/* field = u8(tag) || u8(0)  |  u8(tag) || u8(1) || bytes(canonical) */
static void
chain_append_field(StringInfo buf, const ChainColumn *col, Datum value,
				   bool isnull)
{
	chain_append_u8(buf, (uint8) col->tag);
	if (isnull)
	{
		chain_append_u8(buf, CHAIN_FIELD_NULL);
		return;
	}
	chain_append_u8(buf, CHAIN_FIELD_VALUE);
	if (col->tag != CHAIN_TAG_ARRAY)
	{
		chain_append_canonical(buf, col->tag, col->basetypid, col->is_cidr, value);
		return;
	}
	else
	{
		ArrayType  *arr = DatumGetArrayTypeP(value);
		int			ndim = ARR_NDIM(arr);
		int		   *dims = ARR_DIMS(arr);
		int		   *lbs = ARR_LBOUND(arr);
		Datum	   *elems;
		bool	   *nulls;
		int			nelems;
		int			lenpos;
		int			i;

		/* reserve the u32 length, fill it in at the end */
		lenpos = buf->len;
		chain_put_u32(buf, 0);
		chain_append_u8(buf, (uint8) col->elemtag);
		chain_put_u32(buf, (uint32) ndim);
		for (i = 0; i < ndim; i++)
		{
			chain_put_u32(buf, (uint32) dims[i]);
			chain_put_u32(buf, (uint32) lbs[i]);
		}
		deconstruct_array(arr, col->elemtypid, col->elemlen, col->elembyval,
						  col->elemalign, &elems, &nulls, &nelems);
		for (i = 0; i < nelems; i++)
		{
			if (nulls[i])
				chain_append_u8(buf, CHAIN_FIELD_NULL);
			else
			{
				chain_append_u8(buf, CHAIN_FIELD_VALUE);
				chain_append_canonical(buf, col->elemtag, col->elemtypid,
									   col->elem_is_cidr, elems[i]);
			}
		}
		chain_patch_len(buf, lenpos);
		pfree(elems);
		pfree(nulls);
	}
}

/* ---- SHA-256 ----------------------------------------------------------- */

void
ChainSha256(const uint8 *data, size_t len, uint8 *out)
{
	unsigned int outlen = 0;

	if (chain_md == NULL)
	{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
		/* fetch once: EVP_sha256() would be fetched (under a lock) per call */
		chain_md = EVP_MD_fetch(NULL, "SHA256", NULL);
#else
		chain_md = EVP_sha256();
#endif
		if (chain_md == NULL)
			elog(ERROR, "could not find SHA-256 in OpenSSL");
	}
	if (chain_md_ctx == NULL)
	{
		chain_md_ctx = EVP_MD_CTX_new();
		if (chain_md_ctx == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not allocate an OpenSSL digest context.")));
	}
	if (EVP_DigestInit_ex(chain_md_ctx, chain_md, NULL) != 1 ||
		EVP_DigestUpdate(chain_md_ctx, data, len) != 1 ||
		EVP_DigestFinal_ex(chain_md_ctx, out, &outlen) != 1 ||
		outlen != CHAIN_HASH_LEN)
		elog(ERROR, "could not compute a SHA-256 digest with OpenSSL");
}

static StringInfo
chain_msg_start(void)
{
	if (!chain_msg_ready)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		initStringInfo(&chain_msg);
		MemoryContextSwitchTo(old);
		chain_msg_ready = true;
	}
	resetStringInfo(&chain_msg);
	return &chain_msg;
}

/*
 * row_hash = H( bytes("wallet_ops/row/v1") || i64(chain_seq) || prev_hash ||
 *				 u32(n) || field(col_1) || ... || field(col_n) )
 *
 * values/isnull are indexed by hashed column (0 .. ncols-1).
 */
void
ChainRowHash(const ChainRelInfo *info, int64 seq, const uint8 *prev,
			 const Datum *values, const bool *isnull, uint8 *out)
{
	StringInfo	buf = chain_msg_start();
	int			i;

	ChainEncodeString(buf, CHAIN_ROW_DOMAIN, sizeof(CHAIN_ROW_DOMAIN) - 1);
	chain_put_i64(buf, seq);
	chain_put(buf, prev, CHAIN_HASH_LEN);
	chain_put_u32(buf, (uint32) info->ncols);
	for (i = 0; i < info->ncols; i++)
		chain_append_field(buf, &info->cols[i], values[i], isnull[i]);
	ChainSha256((uint8 *) buf->data, buf->len, out);
	/* do not let one huge row keep a huge buffer */
	if (buf->maxlen > 1024 * 1024)
	{
		pfree(buf->data);
		chain_msg_ready = false;
	}
}

/*
 * genesis = H( bytes("wallet_ops/genesis/v1") || u32(k) || field(key_1) ...)
 */
void
ChainGenesis(const ChainRelInfo *info, const Datum *keyvals, uint8 *out)
{
	StringInfo	buf = chain_msg_start();
	int			i;

	ChainEncodeString(buf, CHAIN_GENESIS_DOMAIN, sizeof(CHAIN_GENESIS_DOMAIN) - 1);
	chain_put_u32(buf, (uint32) info->nkeys);
	for (i = 0; i < info->nkeys; i++)
		chain_append_field(buf, &info->keys[i], keyvals[i], false);
	ChainSha256((uint8 *) buf->data, buf->len, out);
}

/*
 * The key values' fields (as in the genesis), appended to buf: a cheap
 * binary identity of the chain, for lookups.
 */
void
ChainKeyBytes(const ChainRelInfo *info, const Datum *keyvals, StringInfo buf)
{
	int			i;

	for (i = 0; i < info->nkeys; i++)
		chain_append_field(buf, &info->keys[i], keyvals[i], false);
}

/*
 * The chain's name: '' without key columns, the value's text output for one
 * key column, a JSON array of the text outputs for several.  Key values must
 * not be NULL (the caller checks).
 */
char *
ChainKeyName(const ChainRelInfo *info, const Datum *keyvals,
			 const bool *keynulls)
{
	StringInfoData buf;
	int			i;

	if (info->nkeys == 0)
		return pstrdup("");
	if (info->nkeys == 1)
		return OutputFunctionCall((FmgrInfo *) &info->keys[0].outfunc, keyvals[0]);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (i = 0; i < info->nkeys; i++)
	{
		char	   *s = OutputFunctionCall((FmgrInfo *) &info->keys[i].outfunc,
										   keyvals[i]);

		if (i > 0)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, s);
		pfree(s);
	}
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

/* A hash as the bytea value stored in prev_hash, row_hash and last_hash. */
bytea *
ChainHashBytea(const uint8 *hash)
{
	bytea	   *b = palloc(VARHDRSZ + CHAIN_HASH_LEN);

	SET_VARSIZE(b, VARHDRSZ + CHAIN_HASH_LEN);
	memcpy(VARDATA(b), hash, CHAIN_HASH_LEN);
	return b;
}

/*
 * A stored hash (prev_hash, row_hash, last_hash) into out; false when it is
 * NULL or not CHAIN_HASH_LEN bytes long.
 */
bool
ChainHashFromDatum(Datum d, bool isnull, uint8 *out)
{
	bytea	   *b;

	if (isnull)
		return false;
	b = DatumGetByteaPP(d);
	if (VARSIZE_ANY_EXHDR(b) != CHAIN_HASH_LEN)
		return false;
	memcpy(out, VARDATA_ANY(b), CHAIN_HASH_LEN);
	return true;
}

char *
ChainHex(const uint8 *hash, int len)
{
	static const char hexdigits[] = "0123456789abcdef";
	char	   *s = palloc(len * 2 + 1);
	int			i;

	for (i = 0; i < len; i++)
	{
		s[2 * i] = hexdigits[hash[i] >> 4];
		s[2 * i + 1] = hexdigits[hash[i] & 0xF];
	}
	s[len * 2] = '\0';
	return s;
}

static int
chain_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode a hash written as ChainHex writes it (either case) into out
 * (CHAIN_HASH_LEN bytes); false unless s is exactly that many hex digits.
 */
bool
ChainHexDecode(const char *s, int slen, uint8 *out)
{
	int			i;

	if (s == NULL || slen != 2 * CHAIN_HASH_LEN)
		return false;
	for (i = 0; i < CHAIN_HASH_LEN; i++)
	{
		int			hi = chain_hexval(s[2 * i]);
		int			lo = chain_hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (hi << 4) | lo;
	}
	return true;
}
