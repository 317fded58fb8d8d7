# cdc-lake container: multi-stage build, non-root runtime.
#   docker build -t cdc-lake .
#   docker run -v $PWD/config/local-stack.yaml:/etc/cdc-lake/config.yaml:ro -p 8080:8080 cdc-lake
# The config is read from /etc/cdc-lake/config.yaml (mount it); any key can be
# overridden with CDC_LAKE_* variables (docs/configuration.md). Secrets belong in
# the environment (${VAR} in the YAML), not in the image.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` builds, and the sources are not copied yet.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Executable: the entrypoint runs it by its shebang, which carries the node flags (src/cli/main.ts).
RUN npm run build && chmod +x dist/cli/main.js

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` needs TypeScript, which is a dev dependency; dist/ comes from the build stage.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY schemas ./schemas
COPY config ./config
COPY samples ./samples
RUN mkdir -p /etc/cdc-lake /var/lib/cdc-lake && chown node:node /var/lib/cdc-lake
# The image's built-in unprivileged user (uid 1000).
USER node
EXPOSE 8080
# Liveness only (/healthz); orchestrators should use /readyz for readiness.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.CDC_LAKE_SERVER__PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM → stop fetching, flush, commit, leave the group, exit 0 within shutdown.deadlineMs.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/dist/cli/main.js"]
CMD ["run", "--config", "/etc/cdc-lake/config.yaml"]
