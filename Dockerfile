# qwenbot: multi-stage build on the official Node 24 slim image.
# Build stage: production dependencies only; sqlite3's native module is compiled here.
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY adapters ./adapters
COPY config ./config

# Runtime stage: no compiler, non-root user, data on a volume, secrets only from the environment.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    QWENBOT_STORE=sqlite:///data/qwenbot.sqlite \
    PORT=3000
WORKDIR /app
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# Healthy means ready: the store answers and every configured platform is connected (/readyz).
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "src/main.ts"]
