#!/usr/bin/env python3
"""Checks that each table of the extension is read and written from C by
one file only: the file that owns it.  A table is "used" by a C file when
its name (wallet_ops.<table>) appears in a string literal of SQL there (a
literal with an upper-case SQL keyword); comments and messages do not
count.  Prints the owner of each table
and exits 1 when a table has more than one.

    python3 tools/check_table_owners.py [REPO_DIR]
"""
import os
import re
import sys

TABLE = re.compile(r'CREATE\s+TABLE\s+wallet_ops\.([a-z][a-z0-9_]*)', re.I)
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
STRING = re.compile(r'"(?:\\.|[^"\\\n])*"')
SQL = re.compile(r'\b(SELECT|INSERT|UPDATE|DELETE|FROM|INTO|JOIN|USING|TABLE)\b')


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..')
    src = os.path.join(top, 'src')
    tables = set()
    for name in os.listdir(os.path.join(src, 'sql')):
        if name.endswith('.sql'):
            with open(os.path.join(src, 'sql', name), encoding='utf-8') as fh:
                tables.update(TABLE.findall(fh.read()))
    users = {t: [] for t in tables}
    for name in sorted(os.listdir(src)):
        if not name.endswith('.c'):
            continue
        with open(os.path.join(src, name), encoding='utf-8') as fh:
            code = COMMENT.sub('', fh.read())
        literals = ' '.join(s for s in STRING.findall(code) if SQL.search(s))
        for t in tables:
            if re.search(r'wallet_ops\.' + t + r'\b', literals):
                users[t].append(name)
    shared = 0
    for t in sorted(tables):
        files = users[t]
        print(f'wallet_ops.{t}: {", ".join(files) or "(no C file)"}')
        if len(files) > 1:
            shared += 1
    print(f'{len(tables)} tables, {shared} used from more than one C file')
    return 1 if shared else 0


if __name__ == '__main__':
    sys.exit(main())
