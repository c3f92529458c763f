# syntax=docker/dockerfile:1
# The production worker: `docker build -t trustpilot-invitations .`, then run it with the
# environment of README.md (DATABASE_URL, WAREHOUSE_DATABASE_URL, TEMPORAL_ADDRESS, Trustpilot
# credentials). docker-compose.yml runs it beside Temporal and the app's Postgres.
#
# Node 24 is an LTS line (maintained until April 2028); glibc (Debian) rather than Alpine, because
# the Temporal SDK's native core bridge ships prebuilt for glibc. The same image runs the operator
# CLI: `docker run --rm … trustpilot-invitations node dist/cli/main.js --help`.
ARG NODE_IMAGE=node:24.22.1-bookworm-slim

# ---- build: all dependencies, compile src/ to dist/ and bundle the workflow code ----------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are not needed (native pieces come as prebuilt optional packages): none run.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs scripts/build.mjs
COPY src ./src
# Fails on type errors, and when the production entry points import a devDependency.
RUN npm run build

# ---- DuckDB's httpfs extension (s3:// and gs:// files warehouses), from its signed PyPI wheel ------
# The worker never downloads an extension: it loads this file (DUCKDB_EXTENSION_DIRECTORY below).
# The wheel's version matches @duckdb/node-api 1.4.4 (package.json, scripts/setup-duckdb.mjs).
FROM python:3.12-slim-bookworm AS duckdb-extensions
RUN pip download --no-deps --only-binary=:all: --disable-pip-version-check -d /wheel duckdb-ext-httpfs==1.4.4.20260205 \
 && python -m zipfile -e /wheel/duckdb_ext_httpfs-*.whl /wheel/unpacked \
 && mv /wheel/unpacked/duckdb_ext/extensions /duckdb-extensions

# ---- runtime: production dependencies and dist/ only ---------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# METRICS_BIND_ADDRESS: the worker's default, 127.0.0.1:9464, is unreachable from outside the
# container. MALLOC_ARENA_MAX: the SDK's native threads would otherwise each grow an allocator arena.
ENV NODE_ENV=production \
    TZ=UTC \
    MALLOC_ARENA_MAX=2 \
    METRICS_BIND_ADDRESS=0.0.0.0:9464 \
    DUCKDB_EXTENSION_DIRECTORY=/app/duckdb-extensions
WORKDIR /app
# package.json also makes dist/*.js ES modules ("type": "module").
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY --from=duckdb-extensions /duckdb-extensions ./duckdb-extensions
# The image's `node` user, numerically (Kubernetes' runAsNonRoot can only verify a numeric user).
# Code and dependencies stay root-owned and read-only to the process; it writes nothing to disk.
USER 1000:1000
EXPOSE 9464
# SIGTERM (docker stop) lets in-flight Trustpilot calls finish and record their outcome (8 s grace).
STOPSIGNAL SIGTERM
# A bounded heap keeps the worker's memory flat through long runs (see docs/benchmarks.md).
CMD ["node", "--max-old-space-size=160", "--max-semi-space-size=8", "dist/worker.js"]
