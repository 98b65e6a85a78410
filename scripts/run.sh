#!/usr/bin/env bash
# `make run`: start MedVault with the embedded model. As root, the host role is a namespace made for the
# demo (the machine's own firewall and routes stay untouched) and only a loopback port is exposed.
set -euo pipefail
if [[ $(id -u) -eq 0 ]]; then
  exec .venv/bin/medvault up --host-netns medvault-demo "$@"
fi
exec .venv/bin/medvault up --no-isolation "$@"
