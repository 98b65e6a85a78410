#!/usr/bin/env bash
# `make run`: start MedVault with the embedded model. As root, the host role is a namespace made for the
# demo (the machine's own firewall and routes stay untouched) and only a loopback port is exposed.
set -euo pipefail
if [[ $(id -u) -eq 0 ]]; then
  # The gateway and the engines run as unprivileged users and must reach .venv and data/ through every
  # parent directory: a clone under /root (mode 0700 on Debian) cannot serve them.
  IFS=/ read -ra parts <<<"${PWD#/}"
  dir=""
  for part in "${parts[@]}"; do  # from the top down, so the first closed one is named
    dir+="/$part"
    if ! runuser -u nobody -- test -x "$dir"; then
      echo "error: $dir is not open to other users (mode $(stat -c %a "$dir")): MedVault's unprivileged" \
        "workloads cannot reach $PWD/.venv. Clone it elsewhere, e.g. /opt/medvault." >&2
      exit 2
    fi
  done
  exec .venv/bin/medvault up --host-netns medvault-demo "$@"
fi
exec .venv/bin/medvault up --no-isolation "$@"
