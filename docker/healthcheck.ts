/**
 * The image's HEALTHCHECK, run by the app's own binary as a Bun runtime (BUN_BE_BUN=1 /app/server healthcheck.ts),
 * so the image needs no curl. Exit 0 when GET /health answers 2xx within 4 s, else 1.
 */
const DEFAULT_PORTS: Record<string, number> = {
  auth: 3001,
  notifications: 3002,
  audit: 3003,
  analytics: 3004,
}
const port = process.env.PORT ?? DEFAULT_PORTS[process.env.FLOTILLA_APP ?? ''] ?? 3000
try {
  const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(4000) })
  process.exit(response.ok ? 0 : 1)
} catch {
  process.exit(1)
}
