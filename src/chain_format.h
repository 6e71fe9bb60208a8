/*-------------------------------------------------------------------------
 *
 * chain_format.h
 *		The byte format of hash chains (docs/hash-format.md) as constants
 *		and one table of field tags, shared by the server (chain_hash.c)
 *		and the outside verifier (tools/wallet_ops_verify.c).
 *
 * Front-end safe: plain C on <stdint.h>, no PostgreSQL header, so that a
 * libpq program can include it.  That is why the type OIDs are numbers
 * here; they are fixed since they were assigned, and chain_hash.c checks
 * at compile time that each one is the catalog's.  Whatever both sides
 * must agree on is defined here once: a tag written in two places could
 * drift apart, and every hash with it.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_format.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_CHAIN_FORMAT_H
#define WALLET_OPS_CHAIN_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* wallet_ops.hash_chains.format_version of this format */
#define CHAIN_FORMAT_VERSION	1

/* a SHA-256 */
#define CHAIN_HASH_LEN			32

/* the domains hashed first, as bytes(domain) */
#define CHAIN_ROW_DOMAIN		"wallet_ops/row/v1"
#define CHAIN_GENESIS_DOMAIN	"wallet_ops/genesis/v1"
#define CHAIN_DIGEST_DOMAIN		"wallet_ops/digest/v1"

/* a digest's "format" */
#define CHAIN_DIGEST_FORMAT		"wallet_ops.digest.v1"

/* a proof's "format" (wallet_ops.chain_proof, wallet_ops_verify prove) */
#define CHAIN_PROOF_FORMAT		"wallet_ops.proof.v1"

/*
 * A signed digest (docs/hash-format.md, "Signed digests"): the domain of
 * the signed message, the one algorithm, and the sizes of an Ed25519
 * public key and signature.  A key's id is the SHA-256 of its 32 bytes.
 */
#define CHAIN_SIGNATURE_DOMAIN	"wallet_ops/digest-signature/v1"
#define CHAIN_SIGNATURE_ALGORITHM	"ed25519"
#define CHAIN_PUBKEY_LEN		32
#define CHAIN_SIGNATURE_LEN		64

/* the u8 that starts a Merkle leaf, an inner node and the empty root */
#define CHAIN_MERKLE_LEAF		0
#define CHAIN_MERKLE_NODE		1
#define CHAIN_MERKLE_EMPTY		2

/* field = u8(tag) || u8(CHAIN_FIELD_NULL) | u8(tag) || u8(CHAIN_FIELD_VALUE) || ... */
#define CHAIN_FIELD_NULL		0
#define CHAIN_FIELD_VALUE		1

/* Field tags (docs/hash-format.md, "Field encoding"). */
#define CHAIN_TAG_BOOL			'b'
#define CHAIN_TAG_INT			'i'
#define CHAIN_TAG_NUMERIC		'n'
#define CHAIN_TAG_FLOAT			'f'
#define CHAIN_TAG_TEXT			't'
#define CHAIN_TAG_JSON			'j'
#define CHAIN_TAG_JSONB			'J'
#define CHAIN_TAG_BYTEA			'x'
#define CHAIN_TAG_UUID			'u'
#define CHAIN_TAG_TIMESTAMPTZ	'T'
#define CHAIN_TAG_TIMESTAMP		'S'
#define CHAIN_TAG_DATE			'D'
#define CHAIN_TAG_INET			'I'
#define CHAIN_TAG_INTERVAL		'v'
#define CHAIN_TAG_ARRAY			'A'

/* the family byte of an inet or cidr value */
#define CHAIN_INET_V4			4
#define CHAIN_INET_V6			6

/* The built-in types the format encodes, by OID. */
#define CHAIN_BOOLOID			16
#define CHAIN_BYTEAOID			17
#define CHAIN_NAMEOID			19
#define CHAIN_INT8OID			20
#define CHAIN_INT2OID			21
#define CHAIN_INT4OID			23
#define CHAIN_TEXTOID			25
#define CHAIN_JSONOID			114
#define CHAIN_CIDROID			650
#define CHAIN_FLOAT4OID			700
#define CHAIN_FLOAT8OID			701
#define CHAIN_INETOID			869
#define CHAIN_BPCHAROID			1042
#define CHAIN_VARCHAROID		1043
#define CHAIN_DATEOID			1082
#define CHAIN_TIMESTAMPOID		1114
#define CHAIN_TIMESTAMPTZOID	1184
#define CHAIN_INTERVALOID		1186
#define CHAIN_NUMERICOID		1700
#define CHAIN_UUIDOID			2950
#define CHAIN_JSONBOID			3802

/* One (non-array) base type the format can encode. */
typedef struct ChainFormatType
{
	uint32_t	typid;
	const char *typname;		/* format_type() of it */
	char		tag;
	bool		is_cidr;		/* encoded with the cidr flag set */
	bool		key_ok;			/* can be a chain key column */
} ChainFormatType;

/*
 * The table of types, *n entries.  A function rather than a static array
 * in this header, which every file including it would get (and be warned
 * about when unused).
 *
 * key_ok: chain keys need a text output that no setting can change, and
 * whose equality is the type's; not numeric (1.0 and 1.00 are equal but
 * print differently, so one chain would have two names).
 */
static inline const ChainFormatType *
chain_format_types(int *n)
{
	static const ChainFormatType types[] = {
		{CHAIN_BOOLOID, "boolean", CHAIN_TAG_BOOL, false, true},
		{CHAIN_INT2OID, "smallint", CHAIN_TAG_INT, false, true},
		{CHAIN_INT4OID, "integer", CHAIN_TAG_INT, false, true},
		{CHAIN_INT8OID, "bigint", CHAIN_TAG_INT, false, true},
		{CHAIN_NUMERICOID, "numeric", CHAIN_TAG_NUMERIC, false, false},
		{CHAIN_FLOAT4OID, "real", CHAIN_TAG_FLOAT, false, false},
		{CHAIN_FLOAT8OID, "double precision", CHAIN_TAG_FLOAT, false, false},
		{CHAIN_TEXTOID, "text", CHAIN_TAG_TEXT, false, true},
		{CHAIN_VARCHAROID, "character varying", CHAIN_TAG_TEXT, false, true},
		{CHAIN_BPCHAROID, "character", CHAIN_TAG_TEXT, false, true},
		{CHAIN_NAMEOID, "name", CHAIN_TAG_TEXT, false, true},
		{CHAIN_JSONOID, "json", CHAIN_TAG_JSON, false, false},
		{CHAIN_JSONBOID, "jsonb", CHAIN_TAG_JSONB, false, false},
		{CHAIN_BYTEAOID, "bytea", CHAIN_TAG_BYTEA, false, false},
		{CHAIN_UUIDOID, "uuid", CHAIN_TAG_UUID, false, true},
		{CHAIN_TIMESTAMPTZOID, "timestamp with time zone", CHAIN_TAG_TIMESTAMPTZ, false, false},
		{CHAIN_TIMESTAMPOID, "timestamp without time zone", CHAIN_TAG_TIMESTAMP, false, false},
		{CHAIN_DATEOID, "date", CHAIN_TAG_DATE, false, false},
		{CHAIN_INETOID, "inet", CHAIN_TAG_INET, false, true},
		{CHAIN_CIDROID, "cidr", CHAIN_TAG_INET, true, true},
		{CHAIN_INTERVALOID, "interval", CHAIN_TAG_INTERVAL, false, false},
	};

	*n = (int) (sizeof(types) / sizeof(types[0]));
	return types;
}

/*
 * The format's entry for a base type (domains already resolved, not an
 * array), or NULL when the format cannot encode it.
 */
static inline const ChainFormatType *
chain_format_type(uint32_t typid)
{
	int			n;
	const ChainFormatType *types = chain_format_types(&n);
	int			i;

	for (i = 0; i < n; i++)
	{
		if (types[i].typid == typid)
			return &types[i];
	}
	return NULL;
}

#endif							/* WALLET_OPS_CHAIN_FORMAT_H */
