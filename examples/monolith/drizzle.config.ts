/** drizzle-kit settings for the monolith's own tables: `bunx drizzle-kit generate` from this folder. */
import { defineConfig } from 'drizzle-kit'

export default defineConfig({ dialect: 'postgresql', schema: './src/db/schema.ts', out: './drizzle' })
