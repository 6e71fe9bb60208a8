#!/usr/bin/env bash
# Builds the Debian package postgresql-NN-wallet-ops (one per PostgreSQL
# major in debian/pgversions installed here, built by pg_buildext) in a
# copy of the tree under a temporary directory, checks it with lintian, and
# puts the .deb files into OUTDIR (default: the current directory).
#
#   bash scripts/build-deb.sh [OUTDIR]
#
# Needs debhelper, postgresql-server-dev-all, libssl-dev, libpq-dev and
# lintian (scripts/install-deps.sh); runs as any user.  The package is not
# installed: t/075_deb_package.pl extracts it over a private copy of
# PostgreSQL and uses it on a fresh cluster.  Lintian must find no error or
# warning; the tags it still reports are overridden, each with its reason,
# in debian/lintian-overrides.in.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-.}" && cd "${1:-.}" && pwd)
version=$(sed -n '1s/^[^(]*(\([^)]*\)-[^)-]*).*/\1/p' "$top/debian/changelog")
work=$(mktemp -d /tmp/wallet_ops-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
src=$work/wallet-ops-$version
mkdir "$src"
# the sources, without what a build or a test run left behind
tar -C "$top" --exclude=./.git --exclude='./tmp_check*' --exclude=./results \
    --exclude=./output_iso --exclude=./log --exclude=./.private-pg --exclude='*.o' \
    --exclude='*.so' --exclude='*.bc' --exclude=./tools/wallet_ops_verify \
    --exclude="./wallet_ops--$version.sql" --exclude=./regression.diffs \
    --exclude=./regression.out -cf - . | tar -C "$src" -xf -

if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
  tail -n 60 "$work/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed" >&2
  exit 1
fi
changes=$(ls "$work"/*.changes)
echo "build-deb: built $(cd "$work" && ls ./*.deb | sed 's|^\./||' | tr '\n' ' ')"
if ! lintian --fail-on error,warning --display-info "$changes"; then
  echo "build-deb: lintian reports errors or warnings" >&2
  exit 1
fi
cp "$work"/*.deb "$out/"
echo "build-deb: lintian clean; packages in $out"
