#!/usr/bin/env python3
"""Checks that the files of src/ include each other without a cycle.

A file's concern is its name without .c or .h; concern A depends on B when
A.c or A.h includes "B.h".  Prints every concern with what it depends on,
the longest chain of dependencies, and each cycle; exits 1 on a cycle, so
that CI fails when one appears.

    python3 tools/check_includes.py [SRC_DIR]
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)\.h"', re.M)


def graph(src):
    names = {os.path.splitext(f)[0] for f in os.listdir(src) if f.endswith(('.c', '.h'))}
    deps = {n: set() for n in names}
    for f in os.listdir(src):
        base, ext = os.path.splitext(f)
        if ext not in ('.c', '.h'):
            continue
        with open(os.path.join(src, f), encoding='utf-8') as fh:
            for inc in INCLUDE.findall(fh.read()):
                if inc in names and inc != base:
                    deps[base].add(inc)
    return deps


def cycles(deps):
    """Strongly connected components of more than one concern (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(deps[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(deps):
        if v not in index:
            visit(v)
    return out


def longest_chain(deps):
    memo = {}

    def chain(v):
        if v not in memo:
            memo[v] = []  # cycle guard
            best = max((chain(w) for w in deps[v]), key=len, default=[])
            memo[v] = [v] + best
        return memo[v]

    return max((chain(v) for v in sorted(deps)), key=len, default=[])


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'src')
    deps = graph(src)
    for name in sorted(deps):
        print(f'{name}: {", ".join(sorted(deps[name])) or "-"}')
    found = cycles(deps)
    chain = longest_chain(deps)
    print(f'longest chain ({len(chain)} concerns): {" -> ".join(chain)}')
    for comp in found:
        print(f'cycle among {len(comp)} concerns: {", ".join(comp)}')
    print(f'{len(found)} cycles')
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
