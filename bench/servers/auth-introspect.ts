/**
 * The auth app (real Redis, its own key prefix) listening on a free port, for the introspection benchmark.
 * Configured as on Fly (fly/auth.toml): the client ip comes from the `Fly-Client-IP` header the proxy sets,
 * which the benchmark sends, not from the socket (`server.requestIP`, one `getpeername` system call per request).
 * Prints one JSON line `{ port, accessToken }` once ready; deletes its keys on SIGTERM.
 */
import { createTestApp } from '@flotilla/auth/testing'

// Rate limits out of the way: the benchmark measures the introspection path, not the 429s.
const unlimited = { points: 1_000_000_000, windowSeconds: 60 }
const t = await createTestApp(
  {
    accessTokenTtlSeconds: 3600,
    rateLimits: {
      'refresh:ip': unlimited,
      'refresh:user': unlimited,
      'introspect:ip': unlimited,
      'introspect:user': unlimited,
    },
  },
  // As AUTH_TRUSTED_PROXY_HEADER in fly/auth.toml; bench/introspection.ts sends it.
  { trustedProxyHeader: 'Fly-Client-IP' },
)
const service = await t.serviceToken()
const res = await t.request('POST', '/v1/sessions', { token: service, body: { userId: 'u_bench' } })
const { accessToken } = (await res.json()) as { accessToken: string }
const server = t.app.listen({ port: 0, hostname: '127.0.0.1' })
console.log(JSON.stringify({ port: server.server?.port, accessToken }))

process.on('SIGTERM', async () => {
  try {
    await server.stop()
  } catch {}
  await t.close()
  process.exit(0)
})
