# The argosync runtime image that the Runtime component deploys (`image` input): build it with
#   docker build -t <registry>/argosync:<version> .
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production ARGOSYNC_HOME=/var/lib/argosync
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 2746
ENTRYPOINT ["node", "dist/runtime/cli.js"]
CMD ["controller"]
