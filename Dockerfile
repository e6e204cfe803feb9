# WeChat CloudRun image: every wxhub function on one port, refresh on an in-process schedule
# (`npm start` = `node dist/server.mjs`). Settings: container.config.json; guide: docs/deploy.md.
#
# Stages:
#   toolchain  the base image plus what compiling better-sqlite3 (a native addon) needs
#   build      every dependency, then `npm run build` (bundles dist/server.mjs and server-chunks/)
#   prod-deps  production dependencies only, compiled in the same base image
#   runtime    the same base image: node_modules from prod-deps, the bundle and migrations
# One base image throughout, so the addon is compiled against the glibc and Node ABI it runs on.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS toolchain
# When no prebuilt better-sqlite3 binary can be downloaded, npm compiles it with node-gyp.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Optional npm registry mirror for builds far from the default one: --build-arg NPM_REGISTRY=…
ARG NPM_REGISTRY=
RUN if [ -n "$NPM_REGISTRY" ]; then npm config set registry "$NPM_REGISTRY"; fi
COPY package.json package-lock.json ./

FROM toolchain AS build
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM toolchain AS prod-deps
RUN npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production PORT=80 WXHUB_TRUST_WX_SOURCE=1
WORKDIR /app
# Port 80 as a non-root user: only the bind capability goes to the node binary. ca-certificates
# for HTTPS from tools other than Node (which carries its own roots). .data is where the embedded
# SQLite default lives when no MySQL is configured (ephemeral: not for production).
RUN apt-get update \
  && apt-get install -y --no-install-recommends libcap2-bin ca-certificates \
  && setcap cap_net_bind_service=+ep "$(readlink -f "$(command -v node)")" \
  && apt-get purge -y libcap2-bin && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* \
  && mkdir -p /app/.data && chown node:node /app/.data
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/server.mjs* ./dist/
# Loaded on first use: each database dialect's driver and store (only the one configured).
COPY --from=build /app/dist/server-chunks ./dist/server-chunks
# Migrations run at start from ./drizzle (the working directory).
COPY --from=build /app/drizzle ./drizzle
COPY package.json ./
USER node
EXPOSE 80
CMD ["node", "dist/server.mjs"]
