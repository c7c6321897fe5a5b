# syntax=docker/dockerfile:1
# The e2b-bench exporter. The same image runs the local E2B-compatible runtime with another
# command (docker-compose.yml: `local-runtime`, as root and privileged).
#   docker build -t e2b-bench .
#   docker run -p 9477:9477 -v ./config.yml:/etc/e2b-bench/config.yml:ro e2b-bench
ARG NODE_VERSION=24

# ---- build: dependencies and the TypeScript compile ------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY . .
RUN npx tsc -p tsconfig.json \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: Node + the benchmark tools the host probes and the local runtime run ------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# sysbench, fio, iperf3, stress-ng: host probes. bubblewrap, debootstrap, zstd, util-linux,
# iproute2, nftables, procps: the local runtime's namespace sandboxes (their isolated network too)
# and template builds; attr: file metadata (user.* extended attributes) of envd. tini reaps the
# probes' child processes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      sysbench fio iperf3 stress-ng \
      bubblewrap debootstrap zstd squashfs-tools util-linux iproute2 nftables procps attr \
      ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    E2BBENCH_CACHE_DIR=/var/cache/e2b-bench
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/e2b-template ./e2b-template
RUN mkdir -p /etc/e2b-bench /var/cache/e2b-bench \
 && chown node:node /var/cache/e2b-bench

# Host probes need no privileges; the local runtime overrides this with `user: root`.
USER node
EXPOSE 9477
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9477/-/healthy').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["tini", "--", "node", "bin/e2b-bench.js"]
CMD ["serve", "--config", "/etc/e2b-bench/config.yml", "--listen", "0.0.0.0:9477"]
