/** drizzle-kit settings for the outbox migration: `bunx drizzle-kit generate` (from packages/sdk). */
import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/outbox/schema.ts',
  out: './drizzle',
})
