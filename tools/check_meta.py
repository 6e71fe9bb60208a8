#!/usr/bin/env python3
"""Checks META.json against the PGXN meta spec v1 (https://pgxn.org/meta/spec.txt):
the required keys and the form of every key the spec defines (SemVer
versions, terms, tags, license shortcuts or URLs, version ranges in
prereqs, meta-spec 1.0.x, no keys outside the spec but x_*), and that it
agrees with the extension: its version is the Makefile's EXTVERSION and
the control file's default_version, provides names the install script of
that version (built by make and shipped by make dist) and a docfile that
exists.  No validator of the spec is packaged for Debian (pgxnclient has
none, PGXN::Meta::Validator is not packaged), hence these rules, written
from the spec.

Before checking META.json it checks itself: each of a set of broken copies
of META.json must be refused.  Prints what it found and exits 1 on a
defect.

    python3 tools/check_meta.py [REPO_DIR]
"""
import copy
import json
import os
import re
import sys

SEMVER = (r'(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)'
          r'(?:-(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*)?'
          r'(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?')
VERSION = re.compile(r'^' + SEMVER + r'$')
RANGE_PART = r'(?:(?:[=!]=|[<>]=?)\s*)?' + SEMVER
RANGE = re.compile(r'^(?:0|' + RANGE_PART + r'(?:,\s*' + RANGE_PART + r')*)$')
TERM = re.compile(r'^[^/\\\s\x00-\x1f\x7f]{2,}$')
TAG = re.compile(r'^[^/\\\x00-\x1f\x7f]{2,255}$')
URI = re.compile(r'^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$')
CUSTOM = re.compile(r'^[xX]_.')
LICENSES = {
    'agpl_3', 'apache_1_1', 'apache_2_0', 'artistic_1', 'artistic_2', 'bsd',
    'freebsd', 'gfdl_1_2', 'gfdl_1_3', 'gpl_1', 'gpl_2', 'gpl_3', 'lgpl_2_1',
    'lgpl_3_0', 'mit', 'mozilla_1_0', 'mozilla_1_1', 'openssl', 'perl_5',
    'postgresql', 'qpl_1_0', 'ssleay', 'sun', 'zlib', 'open_source',
    'restricted', 'unrestricted', 'unknown'}
REQUIRED = ['name', 'version', 'abstract', 'maintainer', 'license', 'provides', 'meta-spec']
OPTIONAL = ['description', 'generated_by', 'tags', 'no_index', 'prereqs',
            'release_status', 'resources']
PHASES = {'configure', 'build', 'test', 'runtime', 'develop'}
RELATIONS = {'requires', 'recommends', 'suggests', 'conflicts'}


def nonempty_string(v):
    return isinstance(v, str) and len(v) >= 1


def keys_ok(obj, allowed, where, errors):
    for k in obj:
        if k not in allowed and not CUSTOM.match(k):
            errors.append(f'{where}: key "{k}" is not in the spec (custom keys begin with x_)')


def check_spec(meta):
    """The PGXN meta spec v1: a list of what is wrong, empty when valid."""
    errors = []
    if not isinstance(meta, dict):
        return ['the document is not an object']
    for k in REQUIRED:
        if k not in meta:
            errors.append(f'required key "{k}" is missing')
    keys_ok(meta, set(REQUIRED + OPTIONAL), 'top level', errors)

    if 'name' in meta and not (isinstance(meta['name'], str) and TERM.match(meta['name'])):
        errors.append('name: not a term (two characters or more, no space, slash or backslash)')
    if 'version' in meta and not (isinstance(meta['version'], str) and VERSION.match(meta['version'])):
        errors.append(f'version: {meta["version"]!r} is not a SemVer version (x.y.z)')
    for k in ('abstract', 'description', 'generated_by'):
        if k in meta and not nonempty_string(meta[k]):
            errors.append(f'{k}: not a non-empty string')

    m = meta.get('maintainer')
    if 'maintainer' in meta and not (nonempty_string(m) or (
            isinstance(m, list) and m and all(nonempty_string(x) for x in m))):
        errors.append('maintainer: not a string or a non-empty list of strings')

    lic = meta.get('license')
    if 'license' in meta:
        if isinstance(lic, str):
            if lic not in LICENSES:
                errors.append(f'license: {lic!r} is not a license shortcut of the spec')
        elif isinstance(lic, list):
            if not lic or any(x not in LICENSES for x in lic):
                errors.append('license: a list must hold license shortcuts of the spec')
        elif isinstance(lic, dict):
            if not lic or any(not (isinstance(u, str) and URI.match(u)) for u in lic.values()):
                errors.append('license: each license named must map to a URL')
        else:
            errors.append('license: not a shortcut, a list of shortcuts or an object')

    prov = meta.get('provides')
    if 'provides' in meta:
        if not isinstance(prov, dict) or not prov:
            errors.append('provides: not a non-empty object')
        else:
            for ext, spec in prov.items():
                where = f'provides.{ext}'
                if not TERM.match(ext):
                    errors.append(f'{where}: the extension name is not a term')
                if not isinstance(spec, dict):
                    errors.append(f'{where}: not an object')
                    continue
                keys_ok(spec, {'file', 'version', 'abstract', 'docfile', 'docpath'}, where, errors)
                for k in ('file', 'version'):
                    if k not in spec:
                        errors.append(f'{where}: required key "{k}" is missing')
                if 'version' in spec and not (isinstance(spec['version'], str) and VERSION.match(spec['version'])):
                    errors.append(f'{where}.version: not a SemVer version')
                for k in ('file', 'docfile'):
                    if k in spec and not (nonempty_string(spec[k]) and '\\' not in spec[k]
                                          and not spec[k].startswith('/')):
                        errors.append(f'{where}.{k}: not a relative path in unix form')
                if 'abstract' in spec and not nonempty_string(spec['abstract']):
                    errors.append(f'{where}.abstract: not a non-empty string')

    ms = meta.get('meta-spec')
    if 'meta-spec' in meta:
        if not isinstance(ms, dict):
            errors.append('meta-spec: not an object')
        else:
            keys_ok(ms, {'version', 'url'}, 'meta-spec', errors)
            if not (isinstance(ms.get('version'), str) and re.match(r'^1\.0\.[0-9]+$', ms['version'])):
                errors.append('meta-spec.version: must be 1.0.x')
            if 'url' in ms and ms['url'] not in ('https://pgxn.org/meta/spec.txt', 'http://pgxn.org/meta/spec.txt'):
                errors.append('meta-spec.url: not the spec\'s URL')

    if 'tags' in meta:
        t = meta['tags']
        if not (isinstance(t, list) and t and all(isinstance(x, str) and TAG.match(x) for x in t)):
            errors.append('tags: not a non-empty list of tags (2 to 255 characters, no slash)')

    if 'release_status' in meta and meta['release_status'] not in ('stable', 'testing', 'unstable'):
        errors.append('release_status: not stable, testing or unstable')

    if 'prereqs' in meta:
        p = meta['prereqs']
        if not isinstance(p, dict) or not p:
            errors.append('prereqs: not a non-empty object')
        else:
            keys_ok(p, PHASES, 'prereqs', errors)
            for phase, rels in p.items():
                if CUSTOM.match(phase):
                    continue
                if not isinstance(rels, dict) or not rels:
                    errors.append(f'prereqs.{phase}: not a non-empty object')
                    continue
                keys_ok(rels, RELATIONS, f'prereqs.{phase}', errors)
                for rel, deps in rels.items():
                    if CUSTOM.match(rel):
                        continue
                    if not isinstance(deps, dict):
                        errors.append(f'prereqs.{phase}.{rel}: not an object')
                        continue
                    for dep, rng in deps.items():
                        if not TERM.match(dep):
                            errors.append(f'prereqs.{phase}.{rel}: {dep!r} is not a term')
                        if not (rng == 0 or (isinstance(rng, str) and RANGE.match(rng))):
                            errors.append(f'prereqs.{phase}.{rel}.{dep}: {rng!r} is not a version range')

    if 'resources' in meta:
        r = meta['resources']
        if not isinstance(r, dict) or not r:
            errors.append('resources: not a non-empty object')
        else:
            keys_ok(r, {'homepage', 'bugtracker', 'repository'}, 'resources', errors)
            if 'homepage' in r and not (isinstance(r['homepage'], str) and URI.match(r['homepage'])):
                errors.append('resources.homepage: not a URL')
            for k, sub in (('bugtracker', {'web', 'mailto'}), ('repository', {'url', 'web', 'type'})):
                if k in r:
                    if not isinstance(r[k], dict) or not r[k]:
                        errors.append(f'resources.{k}: not a non-empty object')
                    else:
                        keys_ok(r[k], sub, f'resources.{k}', errors)

    if 'no_index' in meta:
        n = meta['no_index']
        if not isinstance(n, dict) or not n:
            errors.append('no_index: not a non-empty object')
        else:
            keys_ok(n, {'file', 'directory'}, 'no_index', errors)
            for k, v in n.items():
                if not (nonempty_string(v) or (isinstance(v, list) and v and all(nonempty_string(x) for x in v))):
                    errors.append(f'no_index.{k}: not a path or a list of paths')
    return errors


def check_extension(meta, top):
    """META.json agrees with the extension it describes."""
    errors = []
    with open(os.path.join(top, 'Makefile'), encoding='utf-8') as fh:
        mk = fh.read()
    ext = re.search(r'^EXTENSION\s*=\s*(\S+)', mk, re.M).group(1)
    extversion = re.search(r'^EXTVERSION\s*=\s*(\S+)', mk, re.M).group(1)
    with open(os.path.join(top, ext + '.control'), encoding='utf-8') as fh:
        default = re.search(r"^default_version\s*=\s*'([^']*)'", fh.read(), re.M).group(1)
    if meta.get('version') != extversion:
        errors.append(f'version {meta.get("version")} is not the Makefile\'s EXTVERSION {extversion}')
    if default != extversion:
        errors.append(f'{ext}.control: default_version {default} is not EXTVERSION {extversion}')
    spec = (meta.get('provides') or {}).get(ext)
    if not isinstance(spec, dict):
        return errors + [f'provides: names no extension "{ext}"']
    if spec.get('version') != extversion:
        errors.append(f'provides.{ext}.version {spec.get("version")} is not EXTVERSION {extversion}')
    if spec.get('file') != f'{ext}--{extversion}.sql':
        errors.append(f'provides.{ext}.file is not the install script {ext}--{extversion}.sql')
    if not re.search(r'^DATA_built\s*=\s*\$\(EXTENSION\)--\$\(EXTVERSION\)\.sql', mk, re.M):
        errors.append('the Makefile no longer builds the install script that provides.file names')
    if not re.search(r'^dist:.*\$\(EXTENSION\)--\$\(EXTVERSION\)\.sql', mk, re.M):
        errors.append('make dist no longer ships the install script that provides.file names')
    if 'docfile' in spec and not os.path.isfile(os.path.join(top, spec['docfile'])):
        errors.append(f'provides.{ext}.docfile {spec["docfile"]} does not exist')
    return errors


def self_test(meta):
    """Each broken copy must be refused, or these rules check nothing."""
    def broken(change):
        m = copy.deepcopy(meta)
        change(m)
        return m
    cases = {
        'no name': broken(lambda m: m.pop('name')),
        'version 1.0': broken(lambda m: m.update(version='1.0')),
        'license "postgres"': broken(lambda m: m.update(license='postgres')),
        'license without URL': broken(lambda m: m.update(license={'PostgreSQL': 'the usual'})),
        'meta-spec 2.0.0': broken(lambda m: m['meta-spec'].update(version='2.0.0')),
        'a key outside the spec': broken(lambda m: m.update(homepage='https://example.org')),
        'provides without file': broken(lambda m: [s.pop('file', None) for s in m['provides'].values()]),
        'name with a space': broken(lambda m: m.update(name='wallet ops')),
        'release_status beta': broken(lambda m: m.update(release_status='beta')),
        'prereq version 13': broken(lambda m: m.update(prereqs={'runtime': {'requires': {'PostgreSQL': '13'}}})),
        'an empty tag list': broken(lambda m: m.update(tags=[])),
    }
    return [name for name, m in cases.items() if not check_spec(m)]


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..')
    with open(os.path.join(top, 'META.json'), encoding='utf-8') as fh:
        try:
            meta = json.load(fh)
        except ValueError as e:
            print(f'META.json: not JSON: {e}')
            return 1
    missed = self_test(meta) if isinstance(meta, dict) and 'meta-spec' in meta and 'provides' in meta else []
    for name in missed:
        print(f'check_meta.py: a META.json with {name} was not refused')
    errors = check_spec(meta)
    if not errors:
        errors = check_extension(meta, top)
    for e in errors:
        print(f'META.json: {e}')
    print(f'META.json: {len(errors)} problems against the PGXN meta spec v1 and the extension; '
          f'{len(missed)} broken copies not refused')
    return 1 if errors or missed else 0


if __name__ == '__main__':
    sys.exit(main())
