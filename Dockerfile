# syntax=docker/dockerfile:1
# The bot as an image: `docker build -t claude-slack-bot .`, then see compose.yaml or README "Deploy".
ARG NODE_IMAGE=node:20-bookworm-slim

# better-sqlite3 compiles from source when no prebuilt binary can be downloaded: it needs python3, make and g++.
# Only the install stages get them; the runtime stage copies the compiled module.
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./

# Every dependency, to compile src/ into dist/ (tsc is a dev dependency).
FROM toolchain AS build
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only: no tsx, typescript or jest in the image.
FROM toolchain AS prod-deps
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
# METRICS_PORT is set so the health check has a port in Socket Mode too (which opens no HTTP port); METRICS_HOST stays
# loopback (its default) until you set 0.0.0.0 for a scraper in another container.
ENV NODE_ENV=production \
    PORT=3000 \
    METRICS_PORT=9464 \
    HISTORY_DB_PATH=/data/history.sqlite
WORKDIR /app
# Owned by root and read-only to the bot: only /data is its to write.
COPY package.json package-lock.json manifest.yml ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The sqlite history (HISTORY_STORE=sqlite, the default). Created before VOLUME so a new volume starts owned by `node`.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
# PORT (HTTP mode: POST /slack/events, GET /healthz, /readyz, /metrics) and METRICS_PORT (GET /metrics, /healthz, /readyz).
EXPOSE 3000 9464
# On SIGTERM the bot stops taking events and lets answers in flight finish for SHUTDOWN_GRACE_MS (20 s by default),
# then exits by SHUTDOWN_GRACE_MS + 3 s at the latest: give `docker stop` more than that (`--stop-timeout 30`,
# compose's stop_grace_period), or Docker's default 10 s kills answers mid-way.
STOPSIGNAL SIGTERM
# Liveness on /healthz: the metrics server when METRICS_PORT is set (as above), else the HTTP port, which Socket Mode
# does not open. Node's own fetch: the slim image has no curl. It asks loopback, so METRICS_HOST must stay 127.0.0.1
# or be 0.0.0.0.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.METRICS_PORT || process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/index.js"]
