#!/usr/bin/env bash
# Builds Citus from a source tarball against one PostgreSQL installation
# and installs it there, for the Citus tests of wallet_ops (t/080_*).
#
#   sudo bash scripts/build-citus.sh TARBALL [PG_CONFIG]
#
# TARBALL is a Citus release (e.g. /work/shared/vendor/citus-13.2.2.tar.xz);
# a patch beside it named <tarball's base>-pg15.18.patch is applied when the
# server is PostgreSQL 15.18 or later (those export have_createdb_privilege(),
# which Citus 13.2.2 defines as a static function of its own).  PG_CONFIG
# defaults to the packaged 15.
#
# The build tree is cached outside the clone: under
# $WALLET_OPS_CITUS_CACHE/<pg version> (default /var/cache/wallet_ops/citus)
# for a PostgreSQL under /usr or /var/cache/wallet_ops, and beside any other
# installation (a private copy made by scripts/private-pg.sh) in
# <its prefix>/citus-build.  A second run only re-installs, and does nothing
# at all when that installation already has this Citus.  It prints the
# directory the extension went to.
set -euo pipefail

tarball=${1:?usage: build-citus.sh TARBALL [PG_CONFIG]}
pg_config=${2:-/usr/lib/postgresql/15/bin/pg_config}
[ -f "$tarball" ] || { echo "build-citus.sh: no such tarball: $tarball" >&2; exit 1; }
tarball=$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")
[ -x "$pg_config" ] || { echo "build-citus.sh: no pg_config at $pg_config" >&2; exit 1; }

name=$(basename "$tarball"); name=${name%.tar.*}          # citus-13.2.2
pgver=$("$pg_config" --version | awk '{print $2}')          # 15.20
pgmajor=${pgver%%.*}
pgminor=$(echo "$pgver" | cut -d. -f2)
pkglibdir=$("$pg_config" --pkglibdir)
sharedir=$("$pg_config" --sharedir)

case $pkglibdir in
  /usr/*|/var/cache/wallet_ops/*)
    cache=${WALLET_OPS_CITUS_CACHE:-/var/cache/wallet_ops/citus}/$pgver ;;
  *)
    # a private copy: <dir>/usr/lib/postgresql/15/lib -> <dir>/citus-build
    cache=$(cd "$pkglibdir/../../../../.." && pwd)/citus-build/$pgver ;;
esac
stamp="$name $pgver $pkglibdir"

if [ -f "$pkglibdir/citus.so" ] && [ -f "$sharedir/extension/citus.control" ] &&
   [ "$(cat "$pkglibdir/.wallet_ops-citus" 2>/dev/null)" = "$stamp" ]; then
  echo "$pkglibdir"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "build-citus.sh: run as root (it installs build dependencies with apt)" >&2
  exit 1
fi

mkdir -p "$cache"
log=$cache/build.log
exec 3>&1 4>&2 1>>"$log" 2>&1
echo "== building $name for PostgreSQL $pgver at $pkglibdir ($(date -u))"
trap 'echo "build-citus.sh: failed; see $log" >&4' ERR

export DEBIAN_FRONTEND=noninteractive
deps=(build-essential liblz4-dev libzstd-dev libcurl4-openssl-dev libkrb5-dev
      libssl-dev "postgresql-server-dev-$pgmajor")
# the server headers come with a build from source; only the packaged
# servers need Debian's -dev package
case $pkglibdir in /usr/lib/postgresql/*) ;; *) unset 'deps[6]' ;; esac
missing=()
for p in "${deps[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

src=$cache/$name
if [ ! -f "$src/.built" ]; then
  rm -rf "$src"
  tar xJf "$tarball" -C "$cache"
  [ -d "$src" ] || { echo "build-citus.sh: $tarball does not unpack to $name/" >&4; exit 1; }
  patch=$(dirname "$tarball")/$name-pg15.18.patch
  if [ "$pgmajor" = 15 ] && [ "$pgminor" -ge 18 ] && [ -f "$patch" ]; then
    (cd "$src" && patch -p1 < "$patch")
  fi
  (cd "$src" && ./configure PG_CONFIG="$pg_config" >/dev/null && make -s -j"$(nproc)" >/dev/null)
  touch "$src/.built"
fi
(cd "$src" && make -s install >/dev/null)
echo "$stamp" > "$pkglibdir/.wallet_ops-citus"
chmod -R a+rX "$pkglibdir" "$sharedir/extension"
echo "== done ($(date -u))"
echo "$pkglibdir" >&3
