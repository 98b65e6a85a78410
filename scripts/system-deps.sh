#!/usr/bin/env bash
# Debian packages MedVault needs: kernel isolation tools, the test database, the test browser, a compiler
# for llama.cpp, bubblewrap and libseccomp for the workload sandbox, OpenLDAP for the directory tests,
# Pango for the PDF evidence report. Installed when root; otherwise listed,
# since non-root development can do without most.
set -euo pipefail
packages=(nftables iproute2 iputils-ping dnsutils netcat-openbsd postgresql chromium chromium-driver
          build-essential cmake python3-venv python3-dev util-linux wrk
          bubblewrap libseccomp2 openssl slapd ldap-utils libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
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
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
