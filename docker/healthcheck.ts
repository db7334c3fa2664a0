/**
 * The image's HEALTHCHECK, run by the app's own binary as a Bun runtime (BUN_BE_BUN=1 /app/server healthcheck.ts),
 * so the image needs no curl. Exit 0 when GET /health answers 2xx within 4 s, else 1. The port is `PORT`, else the
 * app's default from `service.json`, which `package-app.ts` writes beside the binary from the service list.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const defaultPort = (): number | undefined => {
  try {
    return (JSON.parse(readFileSync(join(import.meta.dir, 'service.json'), 'utf8')) as { port?: number }).port
  } catch {
    return undefined
  }
}

const port = process.env.PORT ?? defaultPort()
if (port === undefined) process.exit(1)
try {
  const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(4000) })
  process.exit(response.ok ? 0 : 1)
} catch {
  process.exit(1)
}
