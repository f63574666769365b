# botfleet as a container for a home server: docker compose up -d (see compose.yaml).
#
#   docker build -t botfleet .
#   docker run -d --env-file .env -v "$PWD/config:/app/config:ro" -v botfleet-data:/data botfleet
#
# The base is a build argument so the same file builds against a local stand-in image
# (CI: --build-arg NODE_IMAGE=localhost/node:24-bookworm-slim, see .ci/run).
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: compile sqlite3 and the TypeScript, then keep only what runs ------------------
FROM ${NODE_IMAGE} AS build

# sqlite3 is a native addon: when no prebuilt binary can be downloaded, node-gyp compiles it,
# against the Node headers the image keeps in /usr/local/include/node (no header download).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

WORKDIR /app
COPY package.json package-lock.json ./
# Fails the build here, not the container at run time, when the native build was skipped.
RUN npm ci && node -e "require('sqlite3')"

COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# Production dependencies only, without sqlite3's build tools (node-gyp and its tree are
# optional dependencies), then without what nothing at run time reads: sqlite3's compiler
# output and sources (only the addon itself is loaded), source maps, type declarations,
# TypeScript sources (Node never runs .ts from node_modules) and docs. Licences stay.
RUN npm prune --omit=dev --omit=optional \
 && cd node_modules/sqlite3 \
 && mv build/Release/node_sqlite3.node /tmp/ \
 && rm -rf build deps src \
 && mkdir -p build/Release \
 && mv /tmp/node_sqlite3.node build/Release/ \
 && strip --strip-unneeded build/Release/node_sqlite3.node \
 && cd /app \
 && find node_modules -type f \
      \( -name '*.map' -o -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -iname '*.md' \) \
      ! -iname 'licen[cs]e*' ! -iname 'notice*' -delete \
 && node -e "require('sqlite3')"

# ---- the image: Node, production node_modules, dist/ ---------------------------------------
FROM ${NODE_IMAGE}

LABEL org.opencontainers.image.title="botfleet" \
      org.opencontainers.image.description="Self-hosted runner for Telegram bots that talk to large language models" \
      org.opencontainers.image.licenses="MIT"

ENV NODE_ENV=production
WORKDIR /app

# Conversations live in the volume /data. The default storage URL, sqlite://data/botfleet.sqlite,
# is relative to the working directory: /app/data points at /data, so it lands in
# /data/botfleet.sqlite with no setting. /data belongs to node (uid 1000), so a fresh named
# volume does too; a bind-mounted host folder must be writable by uid 1000.
RUN mkdir /data \
 && chown node:node /data \
 && ln -s /data /app/data

# Owned by root: the app cannot modify its own code.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY schemas ./schemas
COPY config/bots.example.yaml ./config/

USER node
VOLUME /data
# `botfleet health` asks /readyz (config `server`, e.g. port 9464) and exits 1 unless every bot
# polls and storage answers: `docker ps` shows unhealthy when a bot is down. No curl needed.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "dist/cli.js", "health"]
# Reads /app/config/bots.yaml (mount ./config there, read-only) and the environment.
# Exec form: Node is PID 1 and gets SIGTERM itself, finishes replies in flight (up to 10 s)
# and exits 0.
CMD ["node", "dist/cli.js", "run"]
