#!/usr/bin/env python3
"""Writes contrib/prometheus/queries.yaml, the custom queries file with which
postgres_exporter (Debian: prometheus-postgres-exporter, its
--extend.query-path) serves every metric family of wallet_ops.metrics(),
with the same names, labels and values.

The families come from the metrics table of docs/operations.md (metric,
labels, meaning).  The exporter names a metric <query name>_<column>, and
the query names must differ; so each family gets a query of its own, named
by the shortest prefix of its name no other family used, and its column is
the rest (wallet_ops_chain_problems: query wallet_ops_chain, column
problems).  Families of one word after wallet_ops_ (up, preloaded) share the
query wallet_ops.  Every query reads wallet_ops.metrics(), which members of
pg_monitor may call, and takes its family's samples from the text: the
exporter serves what metrics() says, and a family metrics() leaves out has
no sample there either.

    python3 contrib/prometheus/make_queries.py [REPO_DIR] > contrib/prometheus/queries.yaml

t/076_postgres_exporter.pl checks the file is what this writes, and runs
the real exporter with it.
"""
import os
import re
import sys

PREFIX = 'wallet_ops_'


def families(top):
    with open(os.path.join(top, 'docs', 'operations.md'), encoding='utf-8') as fh:
        doc = fh.read()
    rows = re.findall(r'^\| `(wallet_ops_[a-z_]+)` \|\s*([^|]*?)\s*\|\s*(.*?)\s*\|$', doc, re.M)
    out = []
    for name, labels, meaning in rows:
        out.append((name, re.findall(r'`([a-z_]+)`', labels), meaning.strip()))
    return out


def unescape(expr):
    """SQL: a label value of the text format (\\\\, \\", \\n escaped) as it was."""
    return ("replace(replace(replace(replace(" + expr + ", '\\\\', E'\\x01'), '\\\"', '\"'), "
            "'\\n', E'\\n'), E'\\x01', '\\')")


def value(expr):
    return ("(CASE " + expr + " WHEN '+Inf' THEN 'Infinity' WHEN '-Inf' THEN '-Infinity' "
            "ELSE " + expr + " END)::float8")


def plain(text):
    """A description without markdown, quoted for YAML."""
    text = re.sub(r'`([^`]*)`', r'\1', text)
    return '"' + text.replace('\\', '\\\\').replace('"', '\\"') + '"'


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..')
    fams = families(top)
    if not fams:
        sys.exit('no metrics table found in docs/operations.md')
    # names are handed out to the families of fewest words first: they have
    # the fewest prefixes to choose from
    used = set()
    chosen = {}
    single = []
    for name, labels, meaning in sorted(fams, key=lambda f: len(f[0].split('_'))):
        words = name[len(PREFIX):].split('_')
        if len(words) == 1:
            single.append((name, words[0], labels, meaning))
            continue
        for k in range(1, len(words)):
            q = PREFIX + '_'.join(words[:k])
            if q not in used:
                break
        else:
            sys.exit(f'no query name left for {name}')
        used.add(q)
        chosen[name] = (q, '_'.join(words[k:]))
    queries = [('wallet_ops', single)] if single else []
    for name, labels, meaning in fams:
        if name in chosen:
            queries.append((chosen[name][0], [(name, chosen[name][1], labels, meaning)]))

    out = ['# postgres_exporter custom queries: every metric family of wallet_ops.metrics().',
           '# Written by contrib/prometheus/make_queries.py from docs/operations.md; do not edit.',
           '# prometheus-postgres-exporter --extend.query-path=queries.yaml, as a member of pg_monitor,',
           '# connected to the database with the extension (docs/operations.md).',
           '']
    for q, fams_of in queries:
        labels = fams_of[0][2]
        out.append(f'{q}:')
        out.append('  query: |')
        if len(fams_of) == 1:
            name, column, labels, meaning = fams_of[0]
            pattern = '^' + name
            if labels:
                pattern += r'\{' + ','.join(f'{l}="((?:[^"\\\\]|\\\\.)*)"' for l in labels) + r'\}'
            pattern += r' (\S+)$'
            cols = [unescape(f'm[{i + 1}]') + f' AS "{l}"' for i, l in enumerate(labels)]
            cols.append(value(f'm[{len(labels) + 1}]') + f' AS {column}')
            out.append('    SELECT ' + (',\n           '.join(cols)))
            out.append("      FROM regexp_split_to_table(wallet_ops.metrics(), E'\\n') AS line,")
            out.append(f"           regexp_match(line, '{pattern}') AS m")
            out.append('     WHERE m IS NOT NULL')
        else:
            cols = []
            for name, column, labs, meaning in fams_of:
                cols.append(f"max({value('m[2]')}) FILTER (WHERE m[1] = '{name}') AS {column}")
            out.append('    SELECT ' + (',\n           '.join(cols)))
            out.append("      FROM regexp_split_to_table(wallet_ops.metrics(), E'\\n') AS line,")
            out.append(r"           regexp_match(line, '^(wallet_ops_[a-z]+) (\S+)$') AS m")
            out.append('     WHERE m IS NOT NULL')
        out.append('  metrics:')
        for l in labels if len(fams_of) == 1 else []:
            out.append(f'    - {l}:')
            out.append('        usage: "LABEL"')
            out.append(f'        description: "{l}"')
        for name, column, labs, meaning in fams_of:
            out.append(f'    - {column}:')
            out.append('        usage: "COUNTER"' if name.endswith('_total') else '        usage: "GAUGE"')
            out.append(f'        description: {plain(meaning)}')
        out.append('')
    sys.stdout.write('\n'.join(out))


if __name__ == '__main__':
    main()
