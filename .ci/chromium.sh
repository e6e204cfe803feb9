#!/usr/bin/env bash
# Installs Debian's Chromium (for the console's browser tests) when it is missing and prints its path.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y chromium >&2
fi
command -v chromium
