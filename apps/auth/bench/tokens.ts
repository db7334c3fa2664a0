/**
 * Measures the auth hot paths on this machine over `app.handle` (no sockets): refresh rotation,
 * introspection, and local JWKS verification with the kit's verifier. Real Redis, a throwaway prefix.
 * Run: bun apps/auth/bench/tokens.ts [iterations]
 */
import { createAccessTokenVerifier } from '@flotilla/service-kit'
import type { TokenPair } from '../src/sessions/model.ts'
import { createTestApp } from '../src/testing.ts'

const iterations = Number(process.argv[2] ?? 2000)
const t = await createTestApp()

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
const measure = async (name: string, n: number, concurrency: number, run: (i: number) => Promise<void>) => {
  const latencies: number[] = []
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++
        const t0 = performance.now()
        await run(i)
        latencies.push(performance.now() - t0)
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const ms = (v: number) => v.toFixed(2)
  console.log(
    `${name.padEnd(34)} n=${n} c=${concurrency}  ${(n / seconds).toFixed(0).padStart(6)}/s  p50 ${ms(percentile(latencies, 0.5))} ms  p99 ${ms(percentile(latencies, 0.99))} ms`,
  )
}

try {
  const service = await t.serviceToken()
  const create = async () =>
    (await (
      await t.request('POST', '/v1/sessions', { token: service, body: { userId: `u${Math.random()}` } })
    ).json()) as TokenPair
  await measure('POST /v1/sessions', iterations / 4, 8, async () => {
    await create()
  })

  const chains = await Promise.all(Array.from({ length: 16 }, create))
  await measure('POST /v1/sessions/refresh', iterations, 16, async (i) => {
    const slot = i % chains.length
    const current = chains[slot] as TokenPair
    const res = await t.request('POST', '/v1/sessions/refresh', {
      body: { refreshToken: current.refreshToken },
    })
    chains[slot] = (await res.json()) as TokenPair
  })

  const tokens = chains.map((c) => c.accessToken)
  await measure('POST /v1/tokens/introspect', iterations, 16, async (i) => {
    await t.request('POST', '/v1/tokens/introspect', {
      token: service,
      body: { token: tokens[i % tokens.length] },
    })
  })

  const verifier = createAccessTokenVerifier({ jwks: t.core.keyRing.jwks() })
  await measure('kit JWKS verify (local, no Redis)', iterations * 2, 1, async (i) => {
    await verifier.verify(tokens[i % tokens.length] ?? '')
  })
} finally {
  await t.cleanup()
}
