#!/usr/bin/env bash
# For developers working on several branches at once: makes a private copy
# of the PostgreSQL 15 installation under DIR (once) and prints the path of
# its pg_config.  PostgreSQL finds its share and lib directories relative to
# its binaries, so `make PG_CONFIG=<that path> install` installs wallet_ops
# into the copy only, and tests run against it never see another branch's
# build.
set -euo pipefail
dir=${1:?usage: private-pg.sh DIR}
if [ ! -x "$dir/usr/lib/postgresql/15/bin/pg_config" ]; then
  mkdir -p "$dir/usr/lib/postgresql" "$dir/usr/share/postgresql"
  cp -a /usr/lib/postgresql/15 "$dir/usr/lib/postgresql/"
  cp -a /usr/share/postgresql/15 "$dir/usr/share/postgresql/"
  ln -sfn /usr/include "$dir/usr/include"
  chmod -R a+rX "$dir"
fi
echo "$dir/usr/lib/postgresql/15/bin/pg_config"
