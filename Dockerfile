# WeChat CloudRun image: every wxhub function on one port, refresh on an in-process schedule
# (`npm start` = `node dist/server.mjs`). Settings: container.config.json; guide: docs/deploy.md.
#
# Stages:
#   base       the base image, package.json and package-lock.json
#   build      every dependency, install scripts off, then `npm run build` (bundles
#              dist/server.mjs and server-chunks/)
#   prod-deps  production dependencies only, install scripts off; better-sqlite3's native addon
#              is built only for an image on the embedded database (--build-arg WXHUB_SQLITE=1)
#   runtime    the same base image: node_modules from prod-deps, the bundle and migrations
# One base image throughout, so the addon, when built, matches the glibc and Node ABI it runs on.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
# Optional npm registry mirror for builds far from the default one: --build-arg NPM_REGISTRY=…
ARG NPM_REGISTRY=
RUN if [ -n "$NPM_REGISTRY" ]; then npm config set registry "$NPM_REGISTRY"; fi
COPY package.json package-lock.json ./

FROM base AS build
# The bundler needs no package's install script but esbuild's own (it checks its binary).
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild esbuild
COPY . .
RUN npm run build

FROM base AS prod-deps
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts
# 0 (default): the image runs on MySQL (DATABASE_URL or CloudRun's MYSQL_ADDRESS) and
# better-sqlite3 is left uncompiled. 1: its addon is built (a prebuilt binary when one can be
# downloaded, else compiled with node-gyp) for the embedded SQLite database.
ARG WXHUB_SQLITE=0
RUN if [ "$WXHUB_SQLITE" = "1" ]; then \
    apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/* \
    && npm rebuild better-sqlite3; \
  fi

FROM ${NODE_IMAGE} AS runtime
# x-wx-source is not trusted unless a service says so (WXHUB_TRUST_WX_SOURCE=1 only where
# CloudRun's public access is off); WXHUB_EXPOSE picks the routes served (docs/deploy.md).
ENV NODE_ENV=production PORT=80
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
