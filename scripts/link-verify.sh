#!/usr/bin/env bash
# Makes the outside verifier runnable by name.  `make install` puts
# wallet_ops_verify in the server's bindir ($(pg_config --bindir)), which on
# Debian is /usr/lib/postgresql/15/bin: on nobody's PATH.  This links it
# into a directory that is.
#
#   link-verify.sh BINDIR            link BINDIR/wallet_ops_verify into
#                                    /usr/local/bin, when BINDIR is the
#                                    system's packaged PostgreSQL
#                                    (/usr/lib/postgresql/N/bin); else say
#                                    why not and do nothing
#   link-verify.sh BINDIR LINKDIR    link it into LINKDIR, whatever BINDIR
#
# scripts/demo.sh and scripts/test.sh run the first form after installing,
# so private copies of PostgreSQL (scripts/private-pg.sh) and the versions
# built by scripts/build-pg.sh never take the link over.  A file in the way
# that is not a link is left alone.
set -euo pipefail

bindir=${1:?usage: link-verify.sh BINDIR [LINKDIR]}
linkdir=${2:-}
if [ -z "$linkdir" ]; then
  case $bindir in
    /usr/lib/postgresql/*/bin) linkdir=/usr/local/bin ;;
    *)
      echo "link-verify: $bindir is not the system's packaged PostgreSQL: wallet_ops_verify not linked (run it as $bindir/wallet_ops_verify)"
      exit 0 ;;
  esac
fi

target=$bindir/wallet_ops_verify
link=$linkdir/wallet_ops_verify
if [ ! -x "$target" ]; then
  echo "link-verify: $target does not exist; run make install first" >&2
  exit 1
fi
if [ -e "$link" ] && [ ! -L "$link" ]; then
  echo "link-verify: $link exists and is not a link; left alone" >&2
  exit 1
fi
ln -sfn "$target" "$link"
echo "link-verify: $link -> $target"
