#!/usr/bin/env python3
"""Checks that released install scripts stay as released and that every
released version can be updated to the current one.

A released version's install script (wallet_ops--X.sql at the top of the
repository) must have the SHA-256 recorded for it in RELEASES below: a
change after release would strand every installation made from it.  Every
released version needs a chain of wallet_ops--A--B.sql scripts to the
default_version of wallet_ops.control; t/002_upgrade.pl then checks that
the update gives the same catalog as a fresh install, so a change to
src/sql/ without its upgrade script fails CI there.

    python3 tools/check_releases.py [REPO_DIR]
"""
import hashlib
import os
import re
import sys

# version -> SHA-256 of its install script, recorded at release
RELEASES = {
    '1.0.0': '4c38dec7b9eaa990bfc5b43d3b706b2a9306e2d3844ca6c806dc262c1299f378',
}


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..')
    with open(os.path.join(top, 'wallet_ops.control'), encoding='utf-8') as fh:
        current = re.search(r"default_version\s*=\s*'([^']+)'", fh.read()).group(1)
    steps = {}
    for name in os.listdir(top):
        m = re.fullmatch(r'wallet_ops--([0-9.]+)--([0-9.]+)\.sql', name)
        if m:
            steps.setdefault(m.group(1), []).append(m.group(2))
    bad = 0
    for version, digest in sorted(RELEASES.items()):
        path = os.path.join(top, 'wallet_ops--%s.sql' % version)
        if not os.path.exists(path):
            print('released %s: its install script %s is missing' % (version, os.path.basename(path)))
            bad += 1
            continue
        bad_before = bad
        with open(path, 'rb') as fh:
            found = hashlib.sha256(fh.read()).hexdigest()
        if found != digest:
            print('released %s: %s was edited after release (sha256 %s, released %s); '
                  'put the change into src/sql/ and an upgrade script instead'
                  % (version, os.path.basename(path), found, digest))
            bad += 1
        # a path of upgrade scripts from the release to the current version
        seen, todo = set(), [version]
        while todo:
            v = todo.pop()
            if v in seen:
                continue
            seen.add(v)
            todo.extend(steps.get(v, []))
        if version != current and current not in seen:
            print('released %s: no chain of wallet_ops--A--B.sql scripts leads to %s'
                  % (version, current))
            bad += 1
        elif bad == bad_before:
            print('released %s: install script as released, updatable to %s' % (version, current))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
