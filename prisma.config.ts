// Prisma CLI configuration. The URL is only needed by commands that talk to a database;
// `prisma generate` (run by `npm ci`) does not.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/notifications' },
});
