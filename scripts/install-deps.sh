#!/usr/bin/env bash
# Installs the Debian 12 packages wallet_ops needs to build, run and test.
# Idempotent; skips apt entirely when everything is already there.
set -euo pipefail

packages=(
  build-essential
  postgresql-15
  postgresql-server-dev-15
  postgresql-contrib
  libpq-dev
  libssl-dev
  postgresql-15-pgtap
  libtap-parser-sourcehandler-pgtap-perl
  libipc-run-perl
  postgresql-15-partman
  python3-prometheus-client   # t/050: metrics() read by Prometheus' own parser
  prometheus                  # promtool: t/071 tests the alert rules of docs/operations.md
  man-db                      # man -l and groff: t/073 renders the manual page of wallet_ops_verify
  groff-base
  mandoc                      # mandoc -Tlint: t/073 lints it
  debhelper                   # scripts/build-deb.sh: the Debian package, checked by t/075
  postgresql-server-dev-all   # pg_buildext
  lintian
  prometheus-postgres-exporter # t/076 scrapes the real exporter with contrib/prometheus/queries.yaml
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages ${missing[*]}; run as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The packaged server must not grab port 5432 with a cluster of its own.
  mkdir -p /etc/postgresql-common
  if [ ! -f /etc/postgresql-common/createcluster.conf ] || ! grep -q '^create_main_cluster' /etc/postgresql-common/createcluster.conf; then
    echo "create_main_cluster = false" >> /etc/postgresql-common/createcluster.conf
  fi
  # promtool comes only with the Prometheus server: the tests need the tool,
  # so the server is neither started now (policy-rc.d) nor at boot.
  policy_made=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_made=1
  fi
  status=0
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
  [ -n "$policy_made" ] && rm -f /usr/sbin/policy-rc.d
  if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v deb-systemd-helper >/dev/null; then
    deb-systemd-helper disable prometheus.service >/dev/null 2>&1 || true
  fi
  if [[ " ${missing[*]} " == *" prometheus-postgres-exporter "* ]] && command -v deb-systemd-helper >/dev/null; then
    deb-systemd-helper disable prometheus-postgres-exporter.service >/dev/null 2>&1 || true
  fi
  [ "$status" -eq 0 ] || exit "$status"
fi
