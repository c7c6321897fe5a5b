#!/usr/bin/env bash
# Idempotent set-up for a Debian machine: system packages (when root), npm dependencies, the build
# and the local sandbox templates. Every step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(bubblewrap sysbench fio iperf3 stress-ng prometheus debootstrap zstd docker-compose runsc
  util-linux procps iproute2 curl ca-certificates chromium)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Debian's prometheus package would start a system service; we run our own instances.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    rm -f /usr/sbin/policy-rc.d
  else
    echo "setup: missing Debian packages (run as root or install them): ${missing[*]}" >&2
  fi
fi

# npm ci only when the lock file changed since the last install.
stamp=node_modules/.e2b-bench-lock-hash
hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$hash" > "$stamp"
fi

echo "setup: building"
npx tsc -p tsconfig.json

if [ "${E2BBENCH_SKIP_TEMPLATE:-0}" != 1 ] && [ -f dist/src/cli/template.js ]; then
  node bin/e2b-bench.js template build
fi
