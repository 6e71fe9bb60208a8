#!/usr/bin/env bash
# Builds PostgreSQL MAJOR (17, 18, ...) from Debian's own source package, for
# testing wallet_ops on versions that Debian 12 does not package, and prints
# the path of its pg_config.
#
#   sudo bash scripts/build-pg.sh MAJOR
#
# The source comes from the newer Debian suites (trixie, sid) through a
# private apt configuration whose deb-src lines are built from the archive
# URI of the system's own sources; nothing in /etc/apt is changed.  The
# build is cached under $WALLET_OPS_PG_CACHE (default
# /var/cache/wallet_ops/pg), outside the clone, so a second run, or CI on
# the same machine, reuses it.  With the server it installs what the tests
# need: contrib (pgcrypto), the isolation tester, the TAP test modules, and
# pgTAP built from its Debian source against this server.
set -euo pipefail

major=${1:?usage: build-pg.sh MAJOR}
cache=${WALLET_OPS_PG_CACHE:-/var/cache/wallet_ops/pg}
prefix=$cache/$major
log=$cache/build-$major.log

if [ -x "$prefix/bin/pg_config" ] && [ -f "$prefix/.complete" ]; then
  echo "$prefix/bin/pg_config"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "build-pg.sh: run as root (it installs build dependencies with apt)" >&2
  exit 1
fi

mkdir -p "$cache"
# fd 3: the caller's stdout, which gets the path of pg_config and nothing
# else; fd 4: the caller's stderr, for what the caller should read
exec 3>&1 4>&2 1>>"$log" 2>&1
echo "== building PostgreSQL $major ($(date -u))"

export DEBIAN_FRONTEND=noninteractive
deps=(build-essential dpkg-dev bison flex libssl-dev libreadline-dev zlib1g-dev
      liblz4-dev libzstd-dev pkg-config libipc-run-perl perl)
missing=()
for p in "${deps[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# deb-src lines for the newer suites, from the system's own archive URI
apt_dir=$cache/apt
mkdir -p "$apt_dir/lists/partial"
# deb-src lines from the system's own archive URIs: the main archive for
# the suites that carry newer and older majors, the security archive for
# their updates
: > "$apt_dir/sources.list"
for uri in $(awk '/^URIs:/ {print $2}' /etc/apt/sources.list.d/*.sources 2>/dev/null) \
           $(awk '$1 == "deb" {print $2}' /etc/apt/sources.list 2>/dev/null); do
  case $uri in
    *security*) suites="trixie-security bullseye-security" ;;
    *) suites="trixie sid bookworm bullseye" ;;
  esac
  for suite in $suites; do
    printf 'deb-src %s %s main\n' "$uri" "$suite" >> "$apt_dir/sources.list"
  done
done
[ -s "$apt_dir/sources.list" ] || { echo "build-pg.sh: no Debian archive URI in /etc/apt" >&4; exit 1; }
apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=/dev/null
          -o "Dir::State::Lists=$apt_dir/lists" -o APT::Get::List-Cleanup=0)
apt-get "${apt_opts[@]}" update -qq

src=$cache/src-$major
rm -rf "$src"
mkdir -p "$src"
cd "$src"
if [ ! -f "$prefix/.server-complete" ]; then
apt-get "${apt_opts[@]}" source --download-only -qq "postgresql-$major" || {
  echo "build-pg.sh: the archive serves no source of postgresql-$major" >&4; exit 1; }
dpkg-source -x --skip-patches postgresql-"$major"_*.dsc pg >/dev/null
cd pg
./configure --prefix="$prefix" --with-openssl --enable-tap-tests --without-icu \
  --with-lz4 --with-zstd --without-readline >/dev/null
make -s -j"$(nproc)" >/dev/null
make -s install >/dev/null
make -s -C contrib -j"$(nproc)" >/dev/null
make -s -C contrib install >/dev/null
make -s -C src/test/isolation install >/dev/null
make -s -C src/test/perl install >/dev/null
touch "$prefix/.server-complete"
fi

# pgTAP, from its Debian source, against this server.  pgTAP is SQL only:
# where the archive serves none of its sources, the SQL of Debian 12's own
# pgTAP package (postgresql-15-pgtap) is installed instead.
cd "$src"
got_pgtap=
for v in $(apt-cache "${apt_opts[@]}" showsrc pgtap | awk '/^Version:/ {print $2}' | sort -rV); do
  rm -f pgtap_*
  if apt-get "${apt_opts[@]}" source --download-only -qq "pgtap=$v"; then got_pgtap=$v; break; fi
done
extdir=$("$prefix/bin/pg_config" --sharedir)/extension
if [ -n "$got_pgtap" ]; then
  dpkg-source -x --skip-patches pgtap_"$got_pgtap".dsc pgtap >/dev/null
  make -s -C pgtap PG_CONFIG="$prefix/bin/pg_config" >/dev/null
  make -s -C pgtap PG_CONFIG="$prefix/bin/pg_config" install >/dev/null
else
  echo "build-pg.sh: no pgTAP source served; installing the SQL of postgresql-15-pgtap" >&4
  if ! dpkg-query -W -f='${Status}' postgresql-15-pgtap 2>/dev/null | grep -q "install ok installed"; then
    apt-get install -y -qq --no-install-recommends postgresql-15-pgtap
  fi
  cp /usr/share/postgresql/15/extension/pgtap* "$extdir/"
fi

chmod -R a+rX "$prefix"
touch "$prefix/.complete"
rm -rf "$src"
echo "== done ($(date -u))"
echo "$prefix/bin/pg_config" >&3
