#!/usr/bin/env python3
"""Independent reference implementation of docs/hash-format.md (version 1).

Written from the document only, with the Python standard library, so that
the server (the C trigger and verify_chain) and wallet_ops_verify can be
checked against it.  Nothing here imports or runs PostgreSQL.

    python3 tools/hash_reference.py            check the documented vectors
                                               (the ledger's and ours)
    python3 tools/hash_reference.py markdown   print the "Test vectors from
                                               the reference" section
    python3 tools/hash_reference.py sql        print sql/chain_vectors.sql

Values are given as Python objects wrapped in small classes naming their
SQL type (Int, Numeric, Text, Jsonb, ...); field() encodes one of them as
the document says, genesis() and row_hash() do the rest.
"""

import datetime
import decimal
import hashlib
import ipaddress
import json
import struct
import sys
import uuid as uuidlib

# ---------------------------------------------------------------- primitives


def u8(x):
    return struct.pack(">B", x)


def u32(x):
    return struct.pack(">I", x)


def i32(x):
    return struct.pack(">i", x)


def i64(x):
    return struct.pack(">q", x)


def bstr(s):
    """bytes(s) = u32(len) || s"""
    if isinstance(s, str):
        s = s.encode("utf-8")
    return u32(len(s)) + s


def H(m):
    return hashlib.sha256(m).digest()


# ------------------------------------------------------- canonical encodings

PG_EPOCH_DATE = datetime.date(2000, 1, 1)
PG_EPOCH = datetime.datetime(2000, 1, 1)
PG_EPOCH_TZ = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1


def numeric_text(s):
    """numeric's text output for an input literal s (numeric_in + numeric_out):
    scale kept, exponent folded in, no sign on zero."""
    t = s.strip()
    low = t.lower()
    if low == "nan":
        return "NaN"
    if low in ("infinity", "+infinity", "inf", "+inf"):
        return "Infinity"
    if low in ("-infinity", "-inf"):
        return "-Infinity"
    d = decimal.Decimal(t)
    out = format(d, "f")
    if d == 0 and out.startswith("-"):
        out = out[1:]
    return out


def json_escape(s):
    """PostgreSQL's escape_json()."""
    out = ['"']
    for ch in s:
        if ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _jsonb_pairs(pairs):
    d = {}
    for k, v in pairs:          # duplicate keys: the last one wins
        d.pop(k, None)
        d[k] = v
    return ("obj", d)


def _jsonb_const(name):
    raise ValueError("jsonb does not accept %s" % name)


def jsonb_text(src):
    """jsonb's text output for the JSON text src: keys unique (last wins)
    and ordered as jsonb orders them (shorter first, then by bytes),
    ", " and ": " separators, numbers as numeric's text output."""
    v = json.loads(src, object_pairs_hook=_jsonb_pairs,
                   parse_float=decimal.Decimal, parse_int=decimal.Decimal,
                   parse_constant=_jsonb_const)
    return _jsonb_out(v)


def _jsonb_out(v):
    if isinstance(v, tuple) and v[0] == "obj":
        keys = sorted(v[1].keys(), key=lambda k: (len(k.encode()), k.encode()))
        return "{" + ", ".join(json_escape(k) + ": " + _jsonb_out(v[1][k])
                               for k in keys) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_jsonb_out(x) for x in v) + "]"
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, decimal.Decimal):
        return numeric_text(str(v))
    if isinstance(v, str):
        return json_escape(v)
    raise TypeError(v)


def ts_micros(dt, epoch):
    if dt == "infinity":
        return INT64_MAX
    if dt == "-infinity":
        return INT64_MIN
    delta = dt - epoch
    return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds


class Value:
    """A non-NULL value of one SQL type: tag + canonical bytes."""
    tag = None

    def canonical(self):
        raise NotImplementedError


class Bool(Value):
    tag = "b"

    def __init__(self, v):
        self.v = v

    def canonical(self):
        return b"\x01" if self.v else b"\x00"

    def sql(self):
        return "true" if self.v else "false"


class Int(Value):
    """smallint, integer, bigint"""
    tag = "i"

    def __init__(self, v):
        self.v = v

    def canonical(self):
        return i64(self.v)

    def sql(self):
        return str(self.v)

    def key_name(self):
        return str(self.v)


class Numeric(Value):
    """numeric; scale: the typmod's scale of numeric(p,s), if any (the
    value is rounded half away from zero to that scale, as stored)"""
    tag = "n"

    def __init__(self, s, scale=None):
        self.s = s
        self.scale = scale

    def stored(self):
        t = numeric_text(self.s)
        if self.scale is None or t in ("NaN", "Infinity", "-Infinity"):
            return t
        d = decimal.Decimal(t).quantize(decimal.Decimal(1).scaleb(-self.scale),
                                        rounding=decimal.ROUND_HALF_UP)
        return numeric_text(str(d))

    def canonical(self):
        return self.stored().encode("ascii")

    def sql(self):
        return "'%s'" % self.s

    def key_name(self):
        return self.stored()


class Float(Value):
    """real (single=True: the value is rounded to binary32 first) or double"""
    tag = "f"

    def __init__(self, v, single=False):
        self.v = v
        self.single = single

    def canonical(self):
        v = self.v
        if self.single:
            v = struct.unpack(">f", struct.pack(">f", v))[0]
        if v != v:
            return bytes.fromhex("7FF8000000000000")
        return struct.pack(">d", v)

    def sql(self):
        return "'%r'" % self.v


class Text(Value):
    """text, varchar, char(n) (give it with its padding), name"""
    tag = "t"

    def __init__(self, s):
        self.s = s

    def canonical(self):
        return self.s.encode("utf-8")

    def sql(self):
        return "'" + self.s.replace("'", "''") + "'"

    def key_name(self):
        return self.s


class Json(Value):
    tag = "j"

    def __init__(self, s):
        self.s = s

    def canonical(self):
        return self.s.encode("utf-8")

    def sql(self):
        return "'" + self.s.replace("'", "''") + "'"


class Jsonb(Value):
    tag = "J"

    def __init__(self, s):
        self.s = s

    def canonical(self):
        return jsonb_text(self.s).encode("utf-8")

    def sql(self):
        return "'" + self.s.replace("'", "''") + "'"


class Bytea(Value):
    tag = "x"

    def __init__(self, b):
        self.b = b

    def canonical(self):
        return self.b

    def sql(self):
        return "'\\x%s'" % self.b.hex()


class Uuid(Value):
    tag = "u"

    def __init__(self, s):
        self.u = uuidlib.UUID(s)

    def canonical(self):
        return self.u.bytes

    def sql(self):
        return "'%s'" % self.u

    def key_name(self):
        return str(self.u)


class Timestamptz(Value):
    """an aware datetime, or 'infinity' / '-infinity'"""
    tag = "T"
    epoch = PG_EPOCH_TZ

    def __init__(self, dt):
        self.dt = dt

    def canonical(self):
        return i64(ts_micros(self.dt, self.epoch))

    def sql(self):
        if isinstance(self.dt, str):
            return "'%s'" % self.dt
        return "'%s'" % self.dt.isoformat(" ")


class Timestamp(Timestamptz):
    """a naive datetime, or 'infinity' / '-infinity'"""
    tag = "S"
    epoch = PG_EPOCH


class Date(Value):
    tag = "D"

    def __init__(self, d):
        self.d = d

    def canonical(self):
        if self.d == "infinity":
            return i32(INT32_MAX)
        if self.d == "-infinity":
            return i32(INT32_MIN)
        return i32((self.d - PG_EPOCH_DATE).days)

    def sql(self):
        return "'%s'" % self.d


class Inet(Value):
    """inet (cidr=False) or cidr; s like '192.168.1.5/24' or '2001:db8::1'"""
    tag = "I"

    def __init__(self, s, cidr=False):
        self.s = s
        self.cidr = cidr

    def canonical(self):
        addr, _, bits = self.s.partition("/")
        ip = ipaddress.ip_address(addr)
        fam = 4 if ip.version == 4 else 6
        nbits = int(bits) if bits else (32 if fam == 4 else 128)
        return u8(fam) + u8(nbits) + u8(1 if self.cidr else 0) + ip.packed

    def sql(self):
        return "'%s'" % self.s


class Interval(Value):
    tag = "v"

    def __init__(self, months, days, micros):
        self.months, self.days, self.micros = months, days, micros

    def canonical(self):
        return i64(self.micros) + i32(self.days) + i32(self.months)


class Array(Value):
    """elems: a flat list (row-major) of Value or None; dims: list of
    (length, lower bound); elemtag: the tag of the element type"""
    tag = "A"

    def __init__(self, elemtag, elems, dims=None):
        self.elemtag = elemtag
        self.elems = elems
        self.dims = dims if dims is not None else ([(len(elems), 1)] if elems else [])

    def canonical(self):
        out = u8(ord(self.elemtag)) + u32(len(self.dims))
        for length, lb in self.dims:
            out += i32(length) + i32(lb)
        for e in self.elems:
            if e is None:
                out += u8(0)
            else:
                assert e.tag == self.elemtag
                out += u8(1) + bstr(e.canonical())
        return out


def field(tag, value):
    """field = u8(tag) || u8(0) for NULL, u8(tag) || u8(1) || bytes(canonical)"""
    if value is None:
        return u8(ord(tag)) + u8(0)
    assert value.tag == tag, (value.tag, tag)
    return u8(ord(tag)) + u8(1) + bstr(value.canonical())


# ------------------------------------------------------------------- chains


def genesis(keys):
    """keys: list of (tag, Value) of the chain key columns"""
    m = bstr("wallet_ops/genesis/v1") + u32(len(keys))
    for tag, v in keys:
        m += field(tag, v)
    return H(m)


def row_message(seq, prev, cols):
    """cols: list of (tag, Value or None) in hashed_columns order"""
    assert len(prev) == 32
    m = bstr("wallet_ops/row/v1") + i64(seq) + prev + u32(len(cols))
    for tag, v in cols:
        m += field(tag, v)
    return m


def row_hash(seq, prev, cols):
    return H(row_message(seq, prev, cols))


def chain(keys, rows):
    """The (chain_seq, prev_hash, row_hash) of rows (each a list of
    (tag, value)) appended in order to the chain of keys."""
    prev = genesis(keys)
    out = []
    for seq, cols in enumerate(rows, start=1):
        h = row_hash(seq, prev, cols)
        out.append((seq, prev, h))
        prev = h
    return out


def chain_name(key_values):
    """'' / the key's text output / a JSON array of the text outputs."""
    if not key_values:
        return ""
    if len(key_values) == 1:
        return key_values[0].key_name()
    return "[" + ", ".join(json_escape(v.key_name()) for v in key_values) + "]"


# ------------------------------------------------------------------- digest

DIGEST_DOMAIN = "wallet_ops/digest/v1"


def digest_leaf(chain_key, last_seq, head_hash):
    return H(u8(0) + bstr(DIGEST_DOMAIN) + bstr(chain_key) + i64(last_seq) + head_hash)


def merkle_root(chains):
    """chains: list of (chain_key, last_seq, head_hash bytes); sorted here
    by the UTF-8 bytes of chain_key as the document requires."""
    chains = sorted(chains, key=lambda c: c[0].encode("utf-8"))
    if not chains:
        return H(u8(2) + bstr(DIGEST_DOMAIN))
    level = [digest_leaf(*c) for c in chains]
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level), 2):
            if i + 1 < len(level):
                nxt.append(H(u8(1) + level[i] + level[i + 1]))
            else:
                nxt.append(level[i])
        level = nxt
    return level[0]


def merkle_path(chains, index):
    """The inclusion path of leaf index (chains sorted as merkle_root sorts
    them): the siblings met on the way up, bottom-up, as ("left" or
    "right", hash); a level where the node is carried up adds none."""
    chains = sorted(chains, key=lambda c: c[0].encode("utf-8"))
    level = [digest_leaf(*c) for c in chains]
    path = []
    while len(level) > 1:
        if index % 2 == 1:
            path.append(("left", level[index - 1]))
        elif index + 1 < len(level):
            path.append(("right", level[index + 1]))
        level = [H(u8(1) + level[i] + level[i + 1]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
        index //= 2
    return path


def proof_root(leaf, index, count, path):
    """Fold a proof's path into a root as a verifier does (docs/hash-format.md,
    "Proof for one chain"); None when the sides or the number of steps are
    not those of leaf index among count leaves."""
    h, steps = leaf, list(path)
    while count > 1:
        if index % 2 == 1 or index + 1 < count:
            side = "left" if index % 2 == 1 else "right"
            if not steps or steps[0][0] != side:
                return None
            sib = steps.pop(0)[1]
            h = H(u8(1) + sib + h) if side == "left" else H(u8(1) + h + sib)
        index //= 2
        count = (count + 1) // 2
    return None if steps else h


# ------------------------------------------------------------ signed digest
#
# Ed25519 as RFC 8032, section 6 (the reference code, in plain Python: slow,
# not constant-time, for checking vectors only).

ED_P = 2 ** 255 - 19
ED_L = 2 ** 252 + 27742317777372353535851937790883648493
ED_D = -121665 * pow(121666, ED_P - 2, ED_P) % ED_P
ED_I = pow(2, (ED_P - 1) // 4, ED_P)


def _ed_sha512_int(m):
    return int.from_bytes(hashlib.sha512(m).digest(), "little")


def _ed_add(P, Q):
    A = (P[1] - P[0]) * (Q[1] - Q[0]) % ED_P
    B = (P[1] + P[0]) * (Q[1] + Q[0]) % ED_P
    C = 2 * P[3] * Q[3] * ED_D % ED_P
    D = 2 * P[2] * Q[2] % ED_P
    E, F, G, Hh = B - A, D - C, D + C, B + A
    return (E * F, G * Hh, F * G, E * Hh)


def _ed_mul(s, P):
    Q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            Q = _ed_add(Q, P)
        P = _ed_add(P, P)
        s >>= 1
    return Q


def _ed_equal(P, Q):
    return (P[0] * Q[2] - Q[0] * P[2]) % ED_P == 0 and (P[1] * Q[2] - Q[1] * P[2]) % ED_P == 0


def _ed_recover_x(y, sign):
    if y >= ED_P:
        return None
    x2 = (y * y - 1) * pow(ED_D * y * y + 1, ED_P - 2, ED_P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (ED_P + 3) // 8, ED_P)
    if (x * x - x2) % ED_P != 0:
        x = x * ED_I % ED_P
    if (x * x - x2) % ED_P != 0:
        return None
    if (x & 1) != sign:
        x = ED_P - x
    return x


ED_GY = 4 * pow(5, ED_P - 2, ED_P) % ED_P
ED_GX = _ed_recover_x(ED_GY, 0)
ED_G = (ED_GX, ED_GY, 1, ED_GX * ED_GY % ED_P)


def _ed_compress(P):
    zinv = pow(P[2], ED_P - 2, ED_P)
    x, y = P[0] * zinv % ED_P, P[1] * zinv % ED_P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def _ed_decompress(s):
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _ed_recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % ED_P)


def _ed_secret_expand(secret):
    h = hashlib.sha512(secret).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def ed25519_public(secret):
    a, _ = _ed_secret_expand(secret)
    return _ed_compress(_ed_mul(a, ED_G))


def ed25519_sign(secret, msg):
    a, prefix = _ed_secret_expand(secret)
    A = _ed_compress(_ed_mul(a, ED_G))
    r = _ed_sha512_int(prefix + msg) % ED_L
    Rs = _ed_compress(_ed_mul(r, ED_G))
    h = _ed_sha512_int(Rs + A + msg) % ED_L
    return Rs + int.to_bytes((r + h * a) % ED_L, 32, "little")


def ed25519_verify(public, msg, sig):
    A = _ed_decompress(public)
    R = _ed_decompress(sig[:32])
    s = int.from_bytes(sig[32:], "little")
    if A is None or R is None or s >= ED_L:
        return False
    h = _ed_sha512_int(sig[:32] + public + msg) % ED_L
    return _ed_equal(_ed_mul(s, ED_G), _ed_add(R, _ed_mul(h, A)))


SIGNATURE_DOMAIN = "wallet_ops/digest-signature/v1"


def key_id(public):
    """a key's id: the SHA-256 of its 32 bytes"""
    return H(public)


def signed_message(digest, kid):
    """The bytes a signature by key kid (32 bytes) covers."""
    m = bstr(SIGNATURE_DOMAIN) + bstr("ed25519") + kid
    for f in ("format", "hash_format", "table", "taken_at", "system_identifier"):
        m += bstr(digest[f])
    m += i64(digest["chain_count"]) + i64(digest["row_count"])
    m += bytes.fromhex(digest["merkle_root"])
    return m


def public_key_pem(public):
    """SubjectPublicKeyInfo of an Ed25519 key (RFC 8410), in PEM."""
    import base64
    der = bytes.fromhex("302a300506032b6570032100") + public
    return ("-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(der).decode() +
            "\n-----END PUBLIC KEY-----\n")


# RFC 8032, section 7.1, TEST 1: its secret key signs the vector digest
SIG_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")


def vec_digest():
    """the digest of the "vectors" table, with fixed metadata, signed"""
    ch = vec_chains()
    heads = sorted(((a, lst[-1][0][0], lst[-1][0][2]) for a, lst in ch.items()),
                   key=lambda c: c[0].encode("utf-8"))
    d = {"format": "wallet_ops.digest.v1", "table": "public.vectors",
         "taken_at": "2026-03-01T12:00:00.000000Z",
         "system_identifier": "7301000000000000001",
         "hash_format": "wallet_ops/row/v1",
         "chains": [{"chain_key": a, "last_seq": s, "head_hash": hexs(h)} for a, s, h in heads],
         "chain_count": len(heads), "row_count": sum(s for _, s, _ in heads),
         "merkle_root": hexs(merkle_root(heads))}
    pub = ed25519_public(SIG_SECRET)
    kid = key_id(pub)
    sig = ed25519_sign(SIG_SECRET, signed_message(d, kid))
    d["signature"] = {"algorithm": "ed25519", "key_id": hexs(kid), "value": hexs(sig)}
    return d


def vec_proof(chain_key=None):
    """wallet_ops.chain_proof('vectors', chain_key, vec_digest())"""
    d = vec_digest()
    chain_key = chain_key or ACCT_A
    chains = [(c["chain_key"], c["last_seq"], bytes.fromhex(c["head_hash"]))
              for c in d["chains"]]
    index = [c[0] for c in chains].index(chain_key)
    fields = {k: v for k, v in d.items() if k != "chains"}
    return {"format": "wallet_ops.proof.v1", "digest": fields,
            "chain": d["chains"][index], "leaf_index": index,
            "path": [{"side": side, "hash": hexs(h)}
                     for side, h in merkle_path(chains, index)]}


# -------------------------------------------------------------- the vectors

UTC = datetime.timezone.utc

# The "vectors" table: chain key acct uuid, then one column of each type.
VEC_COLUMNS = [
    # name, SQL type, tag
    ("acct", "uuid", "u"),
    ("memo", "text", "t"),
    ("payload", "jsonb", "J"),
    ("amount", "numeric(12,3)", "n"),
    ("at", "timestamptz", "T"),
    ("day", "date", "D"),
    ("ip", "inet", "I"),
    ("raw", "bytea", "x"),
    ("ok", "boolean", "b"),
    ("big", "bigint", "i"),
    ("ints", "integer[]", "A"),
    ("note", "text", "t"),
]

ACCT_A = "6f1c2d3e-4b5a-4c7d-8e9f-a0b1c2d3e4f5"
ACCT_B = "00000000-0000-4000-8000-000000000001"

VEC_ROWS = [
    # (acct, memo, payload, amount, at, day, ip, raw, ok, big, ints, note)
    [Uuid(ACCT_A),
     Text("Überweisung für Zoë — 東京 ✓"),
     Jsonb('{"to": {"iban": "DE89 3704", "name": "Jürgen"}, "amt": 12.50, '
           '"tags": ["ö", {"z": null, "a": true}], "id": 7}'),
     Numeric("12.5", scale=3),
     Timestamptz(datetime.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)),
     Date(datetime.date(2026, 3, 1)),
     Inet("192.168.1.5/24"),
     Bytea(bytes.fromhex("00ff10deadbeef")),
     Bool(True),
     Int(9000000000),
     Array("i", [Int(1), None, Int(-3)]),
     None],
    [Uuid(ACCT_A),
     Text(""),
     Jsonb('{"b": {"y": [1, 2.0, "x\\"y"], "x": {}}, "a": "\\u00e9\\t", "aa": []}'),
     Numeric("-0.0005", scale=3),
     Timestamptz(datetime.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
     Date(datetime.date(1970, 1, 1)),
     Inet("2001:db8::1"),
     Bytea(b""),
     Bool(False),
     Int(-1),
     Array("i", []),
     Text("second")],
    [Uuid(ACCT_B),
     Text("ключ"),
     Jsonb('[{"k": "€"}, 1e3, -0, null, false]'),
     Numeric("1e6", scale=3),
     Timestamptz("infinity"),
     Date("-infinity"),
     Inet("10.0.0.1"),
     Bytea(bytes(range(4))),
     Bool(True),
     Int(0),
     Array("i", [None]),
     Text("chain B")],
]


def vec_chains():
    """{acct: [(seq, prev, hash, row)]} in insertion order"""
    out = {}
    for row in VEC_ROWS:
        out.setdefault(row[0].key_name(), []).append(row)
    res = {}
    for acct, rows in out.items():
        keys = [("u", rows[0][0])]
        cols = [[(c[2], v) for c, v in zip(VEC_COLUMNS, r)] for r in rows]
        res[acct] = list(zip(chain(keys, cols), rows))
    return res


# The "gaps" table: what the vectors above leave open (docs/hash-format.md,
# "Reading stored values"): a chain key of two columns, one of them
# char(n); booleans, char(n) padding, an inet host address, -0, NaN and
# infinite floats, dates before the Gregorian reform and BC, jsonb escaping.

def gregorian_days(y, m, d):
    """days since 2000-01-01 of a date of the proleptic Gregorian calendar,
    y astronomical (1 BC is 0, 44 BC is -43)"""
    def civil(y, m, d):
        y -= m <= 2
        era = y // 400
        yoe = y - era * 400
        doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
        doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
        return era * 146097 + doe
    return civil(y, m, d) - civil(2000, 1, 1)


class CivilDate(Date):
    """a date given as (astronomical year, month, day) and its SQL literal"""

    def __init__(self, ymd, literal):
        self.ymd = ymd
        self.literal = literal

    def canonical(self):
        return i32(gregorian_days(*self.ymd))

    def sql(self):
        return "'%s'" % self.literal


GAP_COLUMNS = [
    ("k1", "text", "t"),
    ("k2", "char(3)", "t"),
    ("b", "boolean", "b"),
    ("c", "char(4)", "t"),
    ("ip", "inet", "I"),
    ("f8", "double precision", "f"),
    ("f4", "real", "f"),
    ("d", "date", "D"),
    ("jb", "jsonb", "J"),
]

GAP_ROWS = [
    [Text('a"b\\'), Text("x  "), Bool(False), Text("é   "), Inet("10.0.0.1/32"),
     Float(-0.0), Float(float("nan"), single=True),
     CivilDate((1582, 10, 10), "1582-10-10"),
     Jsonb('{"s": "\\u0001\\u001f\\u007f/\\u00e9\\u2028", "k\\"ey": "\\\\"}')],
    [Text('a"b\\'), Text("x  "), Bool(True), Text("ab  "), Inet("2001:db8::/32"),
     Float(float("inf")), Float(-1.5, single=True),
     CivilDate((-43, 3, 15), "0044-03-15 BC"),
     Jsonb('"\\n"')],
]

GAP_KEY_NAME = '["a\\"b\\\\", "x  "]'


def gap_chain():
    keys = [("t", GAP_ROWS[0][0]), ("t", GAP_ROWS[0][1])]
    assert chain_name([GAP_ROWS[0][0], GAP_ROWS[0][1]]) == GAP_KEY_NAME
    return chain(keys, [[(c[2], v) for c, v in zip(GAP_COLUMNS, r)] for r in GAP_ROWS])


def gap_sql_value(v):
    if isinstance(v, Float):
        return "'%s'" % {"-0.0": "-0", "nan": "NaN", "inf": "Infinity"}.get(repr(v.v), repr(v.v))
    if isinstance(v, Text):
        return "'" + v.s.replace("'", "''") + "'"
    return v.sql()


def hexs(b):
    return b.hex()


def spaced(b):
    return " ".join("%02x" % x for x in b)


def markdown():
    ch = vec_chains()
    out = []
    w = out.append
    w("### Test vectors from the reference implementation")
    w("")
    w("`tools/hash_reference.py` implements this document independently "
      "(Python standard library only); `python3 tools/hash_reference.py` "
      "recomputes every value of this section and of the one above, and "
      "`sql/chain_vectors.sql` checks the server against the values "
      "below.")
    w("")
    w("The table (chain key `acct`, every other column hashed, in this order):")
    w("")
    w("    CREATE TABLE vectors (")
    w(",\n".join("        %s %s" % (n, t) for n, t, _ in VEC_COLUMNS))
    w("    );")
    w("    SELECT wallet_ops.enable_hash_chain('vectors', '{acct}');")
    w("")
    w("so `hashed_columns` is `{%s}` and every row hashes `u32(%d)` fields." %
      (",".join(n for n, _, _ in VEC_COLUMNS), len(VEC_COLUMNS)))
    w("")
    w("Rows, inserted in this order (`'...'` are SQL literals, inserted with "
      "`TimeZone` set to anything: the values are absolute):")
    w("")
    w("| # | acct | memo | payload (jsonb, as inserted) | amount | at | day | ip | raw | ok | big | ints | note |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for i, r in enumerate(VEC_ROWS, 1):
        cells = []
        for v in r:
            if v is None:
                cells.append("NULL")
            elif isinstance(v, Array):
                cells.append("`'{%s}'`" % ",".join("NULL" if e is None else e.sql() for e in v.elems))
            else:
                cells.append("`%s`" % v.sql().replace("|", "\\|"))
        w("| %d | %s |" % (i, " | ".join(cells)))
    w("")
    w("Canonical jsonb text of the payloads (what is hashed).  Note the "
      "key order: jsonb sorts object keys **by length first, then by "
      "their bytes** (`\"b\"` before `\"aa\"`), not alphabetically; "
      "numbers are numeric's text output (`1e3` is `1000`, `-0` is `0`, "
      "`2.0` stays `2.0`); strings are escaped as PostgreSQL's "
      "`escape_json` does (`\\\"`, `\\\\`, `\\b`, `\\f`, `\\n`, "
      "`\\r`, `\\t`, other control characters as `\\u00XX` in lower "
      "case; everything else, non-ASCII included, as is).")
    w("")
    for i, r in enumerate(VEC_ROWS, 1):
        w("%d. `%s`" % (i, jsonb_text(r[2].s)))
    w("")
    w("Encoded fields of row 1, one per line, in hex (tag, NULL flag, "
      "length, canonical bytes):")
    w("")
    w("```")
    for (n, t, tag), v in zip(VEC_COLUMNS, VEC_ROWS[0]):
        f = field(tag, v)
        w("%-8s %s" % (n, spaced(f)))
    w("```")
    w("")
    w("In row 2, `amount` `-0.0005` is stored in `numeric(12,3)` as `-0.001` "
      "(`%s`) and the empty array `ints` is `%s` (element tag, `u32(0)` "
      "dimensions, nothing else); in row 3, `ints` `{NULL}` is `%s`." % (
          spaced(field("n", VEC_ROWS[1][3])), spaced(field("A", VEC_ROWS[1][10])),
          spaced(field("A", VEC_ROWS[2][10]))))
    w("")
    w("Genesis and hashes:")
    w("")
    w("| chain (`chain_key` text) | chain_seq | prev_hash | row_hash |")
    w("|---|---|---|---|")
    for acct, lst in ch.items():
        g = genesis([("u", lst[0][1][0])])
        for (seq, prev, h), _ in lst:
            w("| `%s` | %d | %s | `%s` |" % (
                acct, seq,
                "genesis `%s`" % hexs(g) if seq == 1 else "row %d" % (seq - 1),
                hexs(h)))
    w("")
    heads = [(a, lst[-1][0][0], lst[-1][0][2]) for a, lst in ch.items()]
    w("The digest of this table lists the chains in the byte order of "
      "their names (`%s` first) and its `merkle_root` is `%s`." % (
          sorted(a for a, _, _ in heads)[0], hexs(merkle_root(heads))))
    w("")
    w("Row 1 of chain `%s` hashes this message (%d bytes):" % (
        ACCT_A, len(vec_row_message(0))))
    w("")
    w("```")
    m = vec_row_message(0)
    for off in range(0, len(m), 32):
        w(spaced(m[off:off + 32]))
    w("```")
    w("")
    d = vec_digest()
    pub = ed25519_public(SIG_SECRET)
    kid = key_id(pub)
    w("**Reading stored values.**  The table")
    w("")
    w("    CREATE TABLE gaps (")
    w(",\n".join("        %s %s" % (n, t) for n, t, _ in GAP_COLUMNS))
    w("    );")
    w("    SELECT wallet_ops.enable_hash_chain('gaps', '{k1,k2}');")
    w("")
    w("holds one chain, named `%s`, of two rows:" % GAP_KEY_NAME)
    w("")
    w("| # | %s |" % " | ".join(n for n, _, _ in GAP_COLUMNS))
    w("|---|" + "---|" * len(GAP_COLUMNS))
    for i, r in enumerate(GAP_ROWS, 1):
        w("| %d | %s |" % (i, " | ".join("`%s`" % gap_sql_value(v).replace("|", "\\|") for v in r)))
    w("")
    w("Fields of row 1 (the key columns are hashed as the first two):")
    w("")
    w("```")
    for (n, t, tag), v in zip(GAP_COLUMNS, GAP_ROWS[0]):
        w("%-4s %s" % (n, spaced(field(tag, v))))
    w("```")
    w("")
    w("Row 2's `f8`, `f4` and `d`: `%s`, `%s`, `%s`; its `jb` is `%s`." % (
        spaced(field("f", GAP_ROWS[1][5])), spaced(field("f", GAP_ROWS[1][6])),
        spaced(field("D", GAP_ROWS[1][7])), spaced(field("J", GAP_ROWS[1][8]))))
    w("")
    gc = gap_chain()
    w("Genesis `%s`; row hashes `%s` and `%s`." % (
        hexs(gc[0][1]), hexs(gc[0][2]), hexs(gc[1][2])))
    w("")
    w("**Signed digest.**  The digest of the `vectors` table with `table` "
      "`%s`, `taken_at` `%s` and `system_identifier` `%s`, signed with the "
      "secret key of RFC 8032, section 7.1, TEST 1 (`%s`), whose public key "
      "is `%s` and key id `%s`.  The signed message (%d bytes):" % (
          d["table"], d["taken_at"], d["system_identifier"], hexs(SIG_SECRET),
          hexs(pub), hexs(kid), len(signed_message(d, kid))))
    w("")
    w("```")
    m = signed_message(d, kid)
    for off in range(0, len(m), 32):
        w(spaced(m[off:off + 32]))
    w("```")
    w("")
    w("Its signature (`signature.value`): `%s`.  The public key in PEM, as "
      "`trust_digest_key` takes it:" % d["signature"]["value"])
    w("")
    w("```")
    w(public_key_pem(pub).rstrip("\n"))
    w("```")
    w("")
    pr = vec_proof()
    leaf = digest_leaf(pr["chain"]["chain_key"], pr["chain"]["last_seq"],
                       bytes.fromhex(pr["chain"]["head_hash"]))
    w("**Proof for one chain.**  `wallet_ops.chain_proof('vectors', '%s', digest)` "
      "of the signed digest above (members in any order; the server returns "
      "jsonb's).  The chain's leaf is `%s`; it is leaf %d of %d, so its one "
      "sibling, the leaf of chain `%s`, is on the left, and "
      "`H(01 ‖ sibling ‖ leaf)` is the digest's `merkle_root`:" % (
          pr["chain"]["chain_key"], hexs(leaf), pr["leaf_index"],
          pr["digest"]["chain_count"], d["chains"][0]["chain_key"]))
    w("")
    w("```")
    w(json.dumps(pr, ensure_ascii=False, indent=2))
    w("```")
    return "\n".join(out) + "\n"


def vec_row_message(idx):
    ch = vec_chains()
    for acct, lst in ch.items():
        for (seq, prev, h), r in lst:
            if r is VEC_ROWS[idx]:
                return row_message(seq, prev, [(c[2], v) for c, v in zip(VEC_COLUMNS, r)])
    raise KeyError(idx)


def sql():
    ch = vec_chains()
    out = []
    w = out.append
    w("-- Checks the server against the test vectors of docs/hash-format.md")
    w("-- computed by tools/hash_reference.py (generated by it: edit the")
    w("-- Python, then `python3 tools/hash_reference.py sql > sql/chain_vectors.sql`).")
    w("-- Every \"matches\" must be t; the hex shown is the reference value.")
    w("CREATE EXTENSION IF NOT EXISTS wallet_ops;")
    w("SET client_min_messages = warning;")
    w("-- settings that must not matter")
    w("SET TimeZone = 'Asia/Kathmandu';")
    w("SET DateStyle = 'SQL, DMY';")
    w("SET extra_float_digits = -3;")
    w("SET bytea_output = 'escape';")
    w("CREATE TABLE vectors (")
    w(",\n".join("    %s %s" % (n, t) for n, t, _ in VEC_COLUMNS))
    w(");")
    w("SELECT wallet_ops.enable_hash_chain('vectors', '{acct}');")
    w("SELECT hashed_columns FROM wallet_ops.hash_chains WHERE relid = 'vectors'::regclass;")
    for r in VEC_ROWS:
        vals = []
        for (n, t, tag), v in zip(VEC_COLUMNS, r):
            if v is None:
                vals.append("NULL")
            elif isinstance(v, Array):
                vals.append("'{%s}'" % ",".join("NULL" if e is None else e.sql() for e in v.elems))
            else:
                vals.append(v.sql())
        w("INSERT INTO vectors VALUES (%s);" % ", ".join(vals))
    w("WITH ref(acct, seq, prev_hex, hash_hex) AS (VALUES")
    refs = []
    for acct, lst in ch.items():
        for (seq, prev, h), _ in lst:
            refs.append("    ('%s'::uuid, %d, '%s', '%s')" % (acct, seq, hexs(prev), hexs(h)))
    w(",\n".join(refs) + ")")
    w("SELECT r.acct, r.seq,")
    w("       encode(v.prev_hash, 'hex') = r.prev_hex AS prev_matches,")
    w("       encode(v.row_hash, 'hex') = r.hash_hex AS matches,")
    w("       r.hash_hex AS reference")
    w("  FROM ref r LEFT JOIN vectors v ON v.acct = r.acct AND v.chain_seq = r.seq")
    w(" ORDER BY r.acct, r.seq;")
    w("-- where they differ, what the server has")
    w("SELECT acct, chain_seq, encode(row_hash, 'hex') AS server_row_hash")
    w("  FROM vectors v WHERE encode(row_hash, 'hex') NOT IN (")
    w(",\n".join("    '%s'" % hexs(h) for lst in ch.values() for (s, p, h), _ in lst))
    w(") ORDER BY 1, 2;")
    w("SELECT * FROM wallet_ops.verify_chain('vectors');")
    heads = [(a, lst[-1][0][0], lst[-1][0][2]) for a, lst in ch.items()]
    w("SELECT d->>'merkle_root' = '%s' AS merkle_root_matches," % hexs(merkle_root(heads)))
    w("       d->'chain_count' AS chain_count")
    w("  FROM wallet_ops.chain_digest('vectors') d;")
    w("-- the gaps table (docs/hash-format.md, \"Reading stored values\")")
    w("CREATE TABLE gaps (")
    w(",\n".join("    %s %s" % (n, t) for n, t, _ in GAP_COLUMNS))
    w(");")
    w("SELECT wallet_ops.enable_hash_chain('gaps', '{k1,k2}');")
    for r in GAP_ROWS:
        w("INSERT INTO gaps VALUES (%s);" % ", ".join(gap_sql_value(v) for v in r))
    w("SELECT chain_key, chain_key = '%s' AS name_matches" % GAP_KEY_NAME.replace("'", "''"))
    w("  FROM wallet_ops.chain_heads WHERE relid = 'gaps'::regclass;")
    w("SELECT chain_seq, encode(row_hash, 'hex') = CASE chain_seq %s END AS matches" % " ".join(
        "WHEN %d THEN '%s'" % (seq, hexs(h)) for seq, _, h in gap_chain()))
    w("  FROM gaps ORDER BY chain_seq;")
    w("-- what ::text shows is not what is hashed (the padding, the /32, the sign of 0)")
    w("SELECT length(c::text) AS c_text_length, length(concat(c)) AS c_output_length,")
    w("       ip::text AS ip_text, concat(ip) AS ip_output, f8::text AS f8_text, b::text AS b_text")
    w("  FROM gaps ORDER BY chain_seq;")
    w("SELECT * FROM wallet_ops.verify_chain('gaps');")
    d = vec_digest()
    pub = ed25519_public(SIG_SECRET)
    dj = json.dumps(d, ensure_ascii=False).replace("'", "''")
    w("-- a signed digest of this table (docs/hash-format.md, \"Signed digests\"),")
    w("-- signed by the reference with RFC 8032's test key 1")
    w("SELECT wallet_ops.trust_digest_key('rfc8032-test-1', '%s') = '%s' AS key_id_matches;" % (
        public_key_pem(pub).replace("\n", "' || E'\\n' || '"), hexs(key_id(pub))))
    w("SELECT * FROM wallet_ops.verify_against_digest('vectors', '%s');" % dj)
    w("-- one signed field changed: the signature no longer holds")
    w("SELECT problem FROM wallet_ops.verify_against_digest('vectors',")
    w("       jsonb_set('%s', '{row_count}', '4'));" % dj)
    pj = json.dumps(vec_proof(), ensure_ascii=False).replace("'", "''")
    w("-- the proof for one chain (docs/hash-format.md, \"Proof for one chain\")")
    w("SELECT wallet_ops.chain_proof('vectors', '%s', '%s') = '%s' AS proof_matches;" % (
        ACCT_A, dj, pj))
    w("SELECT wallet_ops.revoke_digest_key('rfc8032-test-1');")
    w("SELECT problem FROM wallet_ops.verify_against_digest('vectors', '%s');" % dj)
    w("SELECT wallet_ops.chain_proof('vectors', '%s', '%s');" % (ACCT_A, dj))
    w("-- (the table stays: hash-chained tables are append-only)")
    return "\n".join(out) + "\n"


# ------------------------------------------------- checks against the docs


def selfcheck():
    """Recompute the values the ledger documented in hash-format.md, and the
    reference's own vectors; returns the number of failures."""
    fails = 0

    def check(what, got, want):
        nonlocal fails
        ok = hexs(got) == want
        print("%s %s" % ("ok  " if ok else "FAIL", what))
        if not ok:
            fails += 1
            print("     got  %s\n     want %s" % (hexs(got), want))

    g0 = genesis([])
    check("genesis without keys", g0,
          "600ef5c44b6d9574d2fc88fd1d556c63d70ed9ce1a27411aaba15a3acc32c551")
    g1 = genesis([("i", Int(1))])
    check("genesis of integer key 1", g1,
          "990a99bd052fadaf20e6f14d5b22aa016f650248ed9c88871bb73ec09b16fd55")
    tv = chain([("i", Int(1))], [
        [("i", Int(1)), ("n", Numeric("12.50")), ("t", Text("café"))],
        [("i", Int(1)), ("n", None), ("t", Text(""))]])
    check("tv row 1", tv[0][2],
          "736d2424d87e0e109d852b340cef0422988f2512ec87aa9c5652a22d9f1e8ccd")
    check("tv row 2", tv[1][2],
          "cafcb59623204bcf1ac68784ef903ddcca4c9a09103e7e50f499c5c63a997556")

    every = [
        ("b", Bool(True)), ("i", Int(-2)), ("i", Int(40000)), ("i", Int(9000000000)),
        ("n", Numeric("12.50")), ("n", Numeric("0.001")),
        ("f", Float(1.5, single=True)), ("f", Float(0.1)),
        ("t", Text("café über")), ("t", Text("Zoë")), ("t", Text("ab   ")), ("t", Text("nom")),
        ("j", Json('{"b": 1,  "a": [1, 2.0]}')),
        ("J", Jsonb('{"b": 1, "a": [1, 2.0], "ü": "ß"}')),
        ("x", Bytea(bytes.fromhex("deadbeef"))),
        ("u", Uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")),
        ("T", Timestamptz(datetime.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC))),
        ("S", Timestamp(datetime.datetime(2026, 3, 1, 12, 0, 0))),
        ("D", Date(datetime.date(2026, 3, 1))),
        ("I", Inet("192.168.1.5/24")), ("I", Inet("10.0.0.0/8", cidr=True)),
        ("v", Interval(1, 2, ((3 * 60 + 4) * 60 + 5) * 1000000 + 500000)),
        ("A", Array("i", [Int(1), None, Int(3)])),
        ("A", Array("t", [Text("x"), Text("y z")], dims=[(2, 0)])),
        ("A", Array("u", [Uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")])),
        ("A", Array("T", [Timestamptz("infinity"),
                          Timestamptz(datetime.datetime(2026, 1, 1, tzinfo=UTC))])),
        ("A", Array("J", [Jsonb('{"k": null}')])),
        ("A", Array("n", [Numeric("1.0"), Numeric("2"), Numeric("3"), Numeric("NaN")],
                    dims=[(2, 1), (2, 1)])),
    ]
    ev = chain([], [every, every])
    check("every type, row 1", ev[0][2],
          "c84651d998357cf738d6a0ee1ff2f0db08701bb520739160b00da419ae15daf4")
    check("every type, row 2", ev[1][2],
          "92f51fae4e9189a8505ca96034a526ec774bfdfdc76c02a83eed46b3308ebe9e")

    check("empty digest root", merkle_root([]),
          "33130077524a408eeeacef2077c7c2b47baa5cd9ad4c998a533d20514f01ff29")
    check("tv digest root, one chain", merkle_root([("1", 2, tv[1][2])]),
          "3619cadfdc7f16ea6b0947a566809a66d0ad2f6a8dc8e72275d2205ba30de031")
    c2 = chain([("i", Int(2))], [[("i", Int(2)), ("n", Numeric("1")), ("t", Text("x"))]])
    c3 = chain([("i", Int(3))], [[("i", Int(3)), ("n", Numeric("2")), ("t", Text("y"))]])
    check("tv chain 2 head", c2[0][2],
          "50afb12fe0b7dd4a4642e1aebb17e942429a96acf13a152e799ce9cb37e89e43")
    check("tv chain 3 head", c3[0][2],
          "56b0bb1cda3631f854a4a91617e6dbd56e3e9b6a88c463967fe29c1157532124")
    check("tv digest root, three chains",
          merkle_root([("1", 2, tv[1][2]), ("2", 1, c2[0][2]), ("3", 1, c3[0][2])]),
          "bb6f80249b928037b20e493df362a37b09b24afb8ef52ae3eb69e5b39021405f")

    check("Ed25519, RFC 8032 TEST 1 public key", ed25519_public(SIG_SECRET),
          "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    check("Ed25519, RFC 8032 TEST 1 signature", ed25519_sign(SIG_SECRET, b""),
          "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
          "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    d = vec_digest()
    ok = ed25519_verify(ed25519_public(SIG_SECRET),
                        signed_message(d, bytes.fromhex(d["signature"]["key_id"])),
                        bytes.fromhex(d["signature"]["value"]))
    print("%s signed vector digest verifies" % ("ok  " if ok else "FAIL"))
    fails += 0 if ok else 1

    # proofs: the tv chains (chain "3" is carried up a level), every leaf of
    # trees of 1 to 70 leaves, and the vector proof with its signature
    tvc = [("1", 2, tv[1][2]), ("2", 1, c2[0][2]), ("3", 1, c3[0][2])]
    p3 = merkle_path(tvc, 2)
    check("tv proof of chain 3: one sibling, on the left",
          p3[0][1] if [x[0] for x in p3] == ["left"] else b"",
          hexs(H(u8(1) + digest_leaf(*tvc[0]) + digest_leaf(*tvc[1]))))
    check("tv proof of chain 3, its sibling", p3[0][1],
          "49868c61a15690f13dbb0bbcac5fa3c9bb0eed26068a681148cf221effee859e")
    p1 = merkle_path(tvc, 0)
    check("tv proof of chain 1, two steps on the right",
          b"".join(h for side, h in p1) if [x[0] for x in p1] == ["right", "right"] else b"",
          "96f3c4499e93bfe00bb23c0d663b1061dc369768985b48ca0eaa5b444429fb03"
          "436f391c57370f9bd6dba182e79ace45cf75d58b10cc1ecab1c876497934f77d")
    check("tv proof of chain 3 leads to the root",
          proof_root(digest_leaf(*tvc[2]), 2, 3, p3) or b"",
          "bb6f80249b928037b20e493df362a37b09b24afb8ef52ae3eb69e5b39021405f")
    bad = 0
    for n in range(1, 71):
        ch_n = [("%03d" % i, i + 1, H(i64(i))) for i in range(n)]
        root = merkle_root(ch_n)
        for i in range(n):
            p = merkle_path(ch_n, i)
            if proof_root(digest_leaf(*ch_n[i]), i, n, p) != root or \
                    len(p) > (n - 1).bit_length():
                bad += 1
            if p and proof_root(digest_leaf(*ch_n[i]), i, n,
                                [(p[0][0], H(p[0][1]))] + p[1:]) == root:
                bad += 1
    print("%s proofs of every leaf of 1 to 70 chains fold to the root, "
          "within ceil(log2 n) hashes; a changed sibling does not" % ("ok  " if not bad else "FAIL"))
    fails += 1 if bad else 0
    pr = vec_proof()
    ok = proof_root(digest_leaf(pr["chain"]["chain_key"], pr["chain"]["last_seq"],
                                bytes.fromhex(pr["chain"]["head_hash"])),
                    pr["leaf_index"], pr["digest"]["chain_count"],
                    [(x["side"], bytes.fromhex(x["hash"])) for x in pr["path"]]) \
        == bytes.fromhex(pr["digest"]["merkle_root"]) and ed25519_verify(
            ed25519_public(SIG_SECRET),
            signed_message(pr["digest"], bytes.fromhex(pr["digest"]["signature"]["key_id"])),
            bytes.fromhex(pr["digest"]["signature"]["value"]))
    print("%s vector proof leads to the signed merkle_root" % ("ok  " if ok else "FAIL"))
    fails += 0 if ok else 1

    # the reference's own section, if present, must be what this prints
    try:
        import os
        doc = open(os.path.join(os.path.dirname(__file__), "..", "docs",
                                "hash-format.md"), encoding="utf-8").read()
        mine = markdown()
        ok = mine in doc
        print("%s docs/hash-format.md holds the current reference vectors" %
              ("ok  " if ok else "FAIL"))
        fails += 0 if ok else 1
    except OSError as e:
        print("FAIL cannot read docs/hash-format.md: %s" % e)
        fails += 1
    return fails


def main(argv):
    cmd = argv[1] if len(argv) > 1 else "check"
    if cmd == "markdown":
        sys.stdout.write(markdown())
        return 0
    if cmd == "sql":
        sys.stdout.write(sql())
        return 0
    if cmd == "check":
        fails = selfcheck()
        print("%d failure(s)" % fails)
        return 1 if fails else 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
