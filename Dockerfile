# qwenbot: multi-stage build on the official Node 24 images (Debian bookworm).
# Without a reachable registry, make local stand-ins first: scripts/docker-base-offline.sh (see README).
# Build stage: the full image already has python3, make and g++, so sqlite3's native module compiles
# without apt-get; the build downloads npm packages only.
FROM node:24-bookworm AS build
WORKDIR /app
# node-gyp uses the headers that ship with the image instead of downloading them from nodejs.org.
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY adapters ./adapters
COPY config ./config
COPY tsconfig.json tsconfig.build.json ./
# Compiled JavaScript in dist/ (what CMD runs: ~28 MB less RSS than type-stripping src/*.ts at load),
# then the dev dependencies (TypeScript) leave; the stamp is renewed so dist/ counts as fresh after the prune.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund && touch dist/.built

# Runtime stage: the same Debian release (same glibc), no compiler, non-root user, data on a volume,
# secrets only from the environment.
FROM node:24-bookworm-slim
# Configuration without rebuilding: mount a YAML file on /config and point QWENBOT_CONFIG at it, e.g.
#   -v "$PWD/my.yaml:/config/qwenbot.yaml:ro" -e QWENBOT_CONFIG=/config/qwenbot.yaml
# (config/local.yaml is not copied into the image). QWEN_REGION, QWEN_MODEL, PORT, … override settings.
ENV NODE_ENV=production \
    QWENBOT_STORE=sqlite:///data/qwenbot.sqlite \
    PORT=3000
WORKDIR /app
COPY --from=build --chown=node:node /app /app
# `qwenbot` on the PATH, as the usage text names it: docker run --rm -it <image> qwenbot chat
RUN mkdir -p /data /config && chown node:node /data && ln -s /app/bin/qwenbot.js /usr/local/bin/qwenbot
USER node
VOLUME ["/data"]
EXPOSE 3000
# Healthy means ready: the store answers and every configured platform is connected (/readyz).
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# --max-semi-space-size=2: V8's young generation stays at 4 MB; with the default it grew to 128 MB in
# the memory bench and stayed. ~25 MB less RSS idle, and RSS returns near idle after a burst (README "Memory").
# --optimize-for-size: 6 MB (SQLite) to 20 MB (Redis) less idle RSS and 167 instead of 391 MB after 10,000
# conversations, for ~18 % more CPU per turn (docs/benchmarks.md "Memory").
# --bytecode-old-age=2 (bytecode of functions unused over 2 full GCs is dropped, e.g. start-up code) and
# --v8-pool-size=1 (one V8 worker thread, one malloc arena fewer): ~5 MB less idle RSS together, a few % CPU.
# --no-concurrent-recompilation: V8's optimizing compiler runs on the main thread; on the worker its
# memory stayed in the worker's malloc arena: +10–11 instead of +23 MB per 1,000 conversations on Redis.
# Keep it the same as package.json "start" (test/node-flags.test.ts). src/ stays in the image for `npm run demo`.
CMD ["node", "--max-semi-space-size=2", "--optimize-for-size", "--bytecode-old-age=2", "--v8-pool-size=1", "--no-concurrent-recompilation", "dist/src/main.js"]
