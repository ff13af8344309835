# syntax=docker/dockerfile:1
# Multi-stage build: compile with dev dependencies, ship only runtime dependencies, run as non-root.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
USER node
EXPOSE 3000
# The API; the worker runs `node dist/src/worker.js`, migrations `node dist/src/cli/migrate.js up`.
CMD ["node", "--max-semi-space-size=4", "dist/src/main.js"]
