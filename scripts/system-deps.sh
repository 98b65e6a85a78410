#!/usr/bin/env bash
# Debian packages MedVault needs: kernel isolation tools, the test database, the test browser, a compiler
# for llama.cpp, bubblewrap and libseccomp for the workload sandbox, OpenLDAP for the directory tests,
# Pango for the PDF evidence report. Installed when root; otherwise listed,
# since non-root development can do without most.
set -euo pipefail
packages=(nftables iproute2 postgresql chromium
          build-essential cmake python3-venv python3-dev util-linux wrk
          bubblewrap libseccomp2 openssl slapd ldap-utils libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
# PostgreSQL and slapd are for the tests, which start servers of their own: the packages' services must
# neither start now nor at boot (Debian's slapd listens on every address with an anonymous directory).
test_services=(postgresql slapd)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "note: not root, so these Debian packages are not installed: ${missing[*]}" >&2
  echo "      isolation, PostgreSQL and browser tests will be skipped (they run in CI, as root)." >&2
  exit 0
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then  # "no service may start" while installing (exit 101), removed afterwards
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [[ -d /run/systemd/system ]]; then
  for service in "${test_services[@]}"; do
    [[ " ${missing[*]} " == *" $service "* ]] && systemctl disable --now "$service" >/dev/null 2>&1 || true
  done
fi
