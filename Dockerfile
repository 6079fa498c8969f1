# The gateway image: one build for the backend instances and the one-shot migrate service.
FROM node:20-bookworm-slim

# Everything runs as the unprivileged `node` user, including the build, so the npm scripts that
# rebuild before running (db:migrate, db:seed) can write dist/ at run time too.
WORKDIR /app
RUN chown node:node /app
USER node

COPY --chown=node:node . .
# Installs dev dependencies too (TypeScript builds here); postinstall generates the Prisma client.
RUN npm ci --no-audit --no-fund && npm run build

ENV NODE_ENV=production
EXPOSE 4000
CMD ["node", "apps/backend/dist/main.js"]
