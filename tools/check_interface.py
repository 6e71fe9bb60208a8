#!/usr/bin/env python3
"""Checks that docs/interface.md names every public object of the install
script: each function, view and table of schema wallet_ops whose name does
not begin with an underscore (the internal ones).  Prints what is missing
and exits 1, so that CI fails when the SQL and the interface document drift.

    python3 tools/check_interface.py [REPO_DIR]
"""
import os
import re
import sys

CREATE = re.compile(
    r'CREATE\s+(?:OR\s+REPLACE\s+)?(FUNCTION|VIEW|TABLE)\s+wallet_ops\.([a-z][a-z0-9_]*)',
    re.I)


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..')
    sqldir = os.path.join(top, 'src', 'sql')
    objects = set()
    for name in sorted(os.listdir(sqldir)):
        if name.endswith('.sql'):
            with open(os.path.join(sqldir, name), encoding='utf-8') as fh:
                objects.update(CREATE.findall(fh.read()))
    with open(os.path.join(top, 'docs', 'interface.md'), encoding='utf-8') as fh:
        doc = fh.read()
    missing = sorted((kind.lower(), name) for kind, name in objects
                     if not re.search(r'wallet_ops\.' + name + r'\b', doc))
    for kind, name in missing:
        print(f'not in docs/interface.md: {kind} wallet_ops.{name}')
    print(f'{len(objects)} public objects, {len(missing)} missing from docs/interface.md')
    return 1 if missing else 0


if __name__ == '__main__':
    sys.exit(main())
