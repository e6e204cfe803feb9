# WeChat CloudRun image: every wxhub function on one port, refresh on an in-process schedule.
# Build stage compiles the native SQLite driver and the server bundle; the final stage carries
# production dependencies only and runs as a non-root user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=80 WXHUB_TRUST_WX_SOURCE=1
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/drizzle ./drizzle
COPY package.json ./
# Port 80 below 1024 without root: grant only the bind capability to node.
RUN apt-get update && apt-get install -y --no-install-recommends libcap2-bin ca-certificates \
  && setcap 'cap_net_bind_service=+ep' "$(readlink -f "$(command -v node)")" \
  && apt-get purge -y libcap2-bin && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
USER node
EXPOSE 80
CMD ["node", "dist/server.mjs"]
