/**
 * What the revocation check costs a verifier, and how long a revocation takes to reach one. First table: the
 * kit's access-token verifier on a remembered token (the common case) and on a full check, each without and with
 * the revocation list (local copy fed by pub/sub, 10,000 revoked sessions and 1,000 revoked users loaded), plus
 * the fallback a list pays while it has not heard (one Redis read per check). Second table: auth's writer revokes
 * a session (one script: ZADD + PUBLISH) and a verifier on other connections polls until it refuses the token.
 */
import {
  createAccessTokenVerifier,
  createRevocationList,
  createRevocationWriter,
  type RevocationList,
} from '@flotilla/service-kit'
import { createRedisConnection } from '@flotilla/streams'
import { deleteKeysMatching, waitFor } from '@flotilla/streams/testing'
import { benchStream, withInFlight } from './lib/fixtures.ts'
import { compare, latencyMeasurement, section, timed } from './lib/harness.ts'
import { REDIS_URL } from './lib/redis.ts'
import { createBenchSigner } from './lib/tokens.ts'

const N = Number(process.env.BENCH_REVOCATION_VERIFICATIONS ?? 20_000)
const SAMPLES = Number(process.env.BENCH_REVOCATION_SAMPLES ?? 200)
const IN_FLIGHT = 64
const CHECKS = Number(process.env.BENCH_REVOCATION_CHECKS ?? 1_000_000)
const BASELINE = 'kit verifier, remembered token, no revocation check'
const CHECK_BASELINE = 'one Map.get over 10,000 entries'
const silent = { info() {}, warn() {} }

const issue = async () => {
  const { jwks, sign } = await createBenchSigner()
  return { jwks, sign: (sid: string) => sign({ sid, scope: 'profile' }) }
}

/** The markdown section for docs/benchmarks.md. */
export const report = async (): Promise<string> => {
  const stream = benchStream('revocation')
  const redis = createRedisConnection(REDIS_URL, 'request')
  const writerRedis = createRedisConnection(REDIS_URL, 'request')
  const lists: RevocationList[] = []
  const listOf = (subscriberUrl = REDIS_URL) => {
    const list = createRevocationList({
      redis,
      subscriber: () => {
        const s = createRedisConnection(subscriberUrl, 'subscriber')
        s.on('error', () => {})
        return s
      },
      stream,
      logger: silent,
    })
    lists.push(list)
    return list
  }
  try {
    const writer = createRevocationWriter({ redis: writerRedis, stream, tokenLifetimeMs: 15 * 60_000 })
    const { jwks, sign } = await issue()
    // A realistic list: many revoked sessions and users, none of them this token's.
    for (let i = 0; i < 10_000; i += 1000)
      await writer.revokeSessions(Array.from({ length: 1000 }, (_, j) => `s_revoked_${i + j}`))
    for (let i = 0; i < 1000; i++) await writer.revokeUserBefore(`u_revoked_${i}`, Date.now())
    const synced = listOf()
    synced.start()
    await waitFor(() => synced.synced, { message: 'the revocation list to load' })
    const unsynced = listOf('redis://127.0.0.1:9') // its subscriber never connects: every check reads Redis
    const token = await sign('s_bench')
    const verifiers = {
      plain: createAccessTokenVerifier({ jwks }),
      checked: createAccessTokenVerifier({ jwks, revocations: synced }),
      fallback: createAccessTokenVerifier({ jwks, revocations: unsynced }),
      fullPlain: createAccessTokenVerifier({ jwks, cache: false }),
      fullChecked: createAccessTokenVerifier({ jwks, cache: false, revocations: synced }),
    }
    for (const v of Object.values(verifiers)) await v.verify(token)
    const row = (name: string, v: { verify(t: string): Promise<unknown> }) => ({
      name,
      run: () => timed(N, () => withInFlight(N, IN_FLIGHT, () => v.verify(token))),
    })
    const cost = await compare({
      title: `revocation check in the access-token verifier, ${N.toLocaleString('en-US')} verifications, ${IN_FLIGHT} in flight`,
      unit: 'verifications/s',
      contenders: [
        row(BASELINE, verifiers.plain),
        row('kit verifier, remembered token, revocation list (local copy)', verifiers.checked),
        row(
          'kit verifier, remembered token, revocation list not heard from (Redis read)',
          verifiers.fallback,
        ),
        row('kit verifier, cache: false, no revocation check', verifiers.fullPlain),
        row('kit verifier, cache: false, revocation list (local copy)', verifiers.fullChecked),
      ],
    })

    // The check alone, synchronous: what the list adds per request once the verifier's own work is set aside.
    const subject = { kid: 'bench-key-1', sid: 's_bench', sub: 'u_bench', iat: Math.floor(Date.now() / 1000) }
    const sessionsMap = new Map(
      Array.from({ length: 10_000 }, (_, i) => [`s_revoked_${i}`, Date.now() + 60_000]),
    )
    const loop = (body: () => unknown) => () =>
      timed(CHECKS, async () => {
        for (let i = 0; i < CHECKS; i++) body()
      })
    const alone = await compare({
      title: `revocation list check alone, ${CHECKS.toLocaleString('en-US')} checks in a loop`,
      unit: 'checks/s',
      contenders: [
        { name: CHECK_BASELINE, run: loop(() => sessionsMap.get(subject.sid)) },
        {
          name: 'RevocationList.check (local copy: kid, sid, sub/iat)',
          run: loop(() => synced.check(subject)),
        },
      ],
    })

    // Propagation: revoke, then poll a verifier (own connections) on every turn of the event loop until it refuses.
    const tokens = await Promise.all(Array.from({ length: SAMPLES }, (_, i) => sign(`s_latency_${i}`)))
    let next = 0
    const latency = await compare({
      title: `revocation reaching a verifier, ${SAMPLES} sessions revoked one at a time`,
      unit: 'revocations/s',
      rounds: 5,
      contenders: [
        {
          name: 'revokeSessions (ZADD + PUBLISH) → verifier refuses the token',
          run: async () => {
            const times: number[] = []
            const started = performance.now()
            const per = Math.max(1, Math.floor(SAMPLES / 6))
            for (let i = 0; i < per; i++) {
              const index = next++ % SAMPLES
              const t = tokens[index] as string
              const fresh = createAccessTokenVerifier({ jwks, revocations: synced })
              await fresh.verify(t)
              const t0 = performance.now()
              await writer.revokeSessions([`s_latency_${index}`])
              for (;;) {
                const refused = await fresh.verify(t).then(
                  () => false,
                  () => true,
                )
                if (refused) break
                await new Promise((resolve) => setImmediate(resolve))
              }
              times.push(performance.now() - t0)
            }
            return latencyMeasurement(times, per, (performance.now() - started) / 1000, [50])
          },
        },
      ],
    })
    return [
      section(cost, BASELINE, undefined, [
        'The check runs after the verified-token cache on every call (a remembered token of a session revoked since is refused too): with the list current it is three `Map` lookups on `kid`, `sid` and `sub`/`iat`. While the list has not heard (boot, subscriber connection lost) each check is one Redis round trip (three `ZSCORE`s, pipelined by ioredis); with Redis unreachable it fails closed with 503 `DEPENDENCY_UNAVAILABLE`.',
      ]),
      section(alone, CHECK_BASELINE, undefined, [
        'The same check without the verifier around it: the cost per request of the revocation list once it is current, in nanoseconds = 10⁹ ÷ checks/s.',
      ]),
      section(latency, 'revokeSessions (ZADD + PUBLISH) → verifier refuses the token', undefined, [
        'Time from the start of auth’s revocation call to the first refusal by a verifier whose list listens on its own subscriber connection (same machine, loopback Redis). The latency columns are the medians over the rounds of each round’s p50 and max (a round revokes `SAMPLES / 6` sessions one after the other).',
      ]),
    ].join('\n\n')
  } finally {
    for (const list of lists) await list.close()
    await deleteKeysMatching(writerRedis, `{${stream}}*`)
    redis.disconnect()
    writerRedis.disconnect()
  }
}

if (import.meta.main) {
  console.log(await report())
  process.exit(0)
}
