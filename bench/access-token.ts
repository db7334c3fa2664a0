/**
 * Local access-token check: the kit's JWKS verifier (`createAccessTokenVerifier`) against jose's own
 * `jwtVerify` of the same token with the same local JWKS, 64 verifications in flight. The kit runs twice:
 * with its verified-token cache off (every check in full: the comparison the target is about) and on (a
 * client presenting its token again, the common case).
 */
import { createAccessTokenVerifier } from '@flotilla/service-kit'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { withInFlight } from './lib/fixtures.ts'
import { type BenchOptions, type BenchReport, compare, ratioTarget, reportOf, timed } from './lib/harness.ts'
import { createBenchSigner } from './lib/tokens.ts'

const IN_FLIGHT = 64
const JOSE = 'jose jwtVerify (same JWKS, issuer, audience, typ)'
const FULL = 'kit createAccessTokenVerifier, cache: false (every check in full)'

/** An EdDSA `at+jwt` shaped like the auth service's, and the key set and public key that verify it. */
const issue = async () => {
  const { jwks, publicKey, sign } = await createBenchSigner()
  return { token: await sign({ sid: 's_bench', scope: 'profile', did: 'd_bench' }), jwks, publicKey }
}

/** The markdown section for docs/benchmarks.md. */
export const report = async ({ quick = false }: BenchOptions = {}): Promise<BenchReport> => {
  const N = Number(process.env.BENCH_TOKEN_VERIFICATIONS ?? (quick ? 4_000 : 20_000))
  const { token, jwks, publicKey } = await issue()
  const verifier = createAccessTokenVerifier({ jwks, cache: false })
  const cached = createAccessTokenVerifier({ jwks })
  const localSet = createLocalJWKSet(jwks)
  const joseOptions = { algorithms: ['EdDSA'], issuer: 'flotilla-auth', audience: 'flotilla', typ: 'at+jwt' }
  // Both must accept the token, or the comparison means nothing.
  await verifier.verify(token)
  await cached.verify(token)
  await jwtVerify(token, localSet, joseOptions)
  const result = await compare({
    title: `local access-token check, ${N.toLocaleString('en-US')} verifications, ${IN_FLIGHT} in flight`,
    unit: 'verifications/s',
    contenders: [
      {
        name: FULL,
        run: () => timed(N, () => withInFlight(N, IN_FLIGHT, () => verifier.verify(token))),
      },
      {
        name: 'kit createAccessTokenVerifier, same token again (verified-token cache)',
        run: () => timed(N, () => withInFlight(N, IN_FLIGHT, () => cached.verify(token))),
      },
      {
        name: JOSE,
        run: () => timed(N, () => withInFlight(N, IN_FLIGHT, () => jwtVerify(token, localSet, joseOptions))),
      },
      {
        name: 'jose jwtVerify with the key object (no JWKS lookup)',
        run: () => timed(N, () => withInFlight(N, IN_FLIGHT, () => jwtVerify(token, publicKey, joseOptions))),
      },
    ],
  })
  const check = ratioTarget(result, {
    name: 'kit verifier, cache off ÷ jose',
    contender: FULL,
    baseline: JOSE,
    limit: 0.9,
  })
  return reportOf(
    result,
    JOSE,
    [check],
    [
      "The target is about the first row, where the kit verifies the signature like jose does. The kit adds, before any crypto: a length and segment check, a header decode that refuses `jwk`/`jku`/`x5u`/`x5c`/`crit`, an algorithm allow-list and a `kid` pattern; after: the required claims (`sub sid jti iat exp`), a maximum token age and the principal object. The token is an EdDSA (Ed25519) `at+jwt` signed here with jose in the auth service's shape.",
      'The second row is the default: a token that verified is remembered (by SHA-256, until it expires or for 300 s) and a repeat costs a hash, a map lookup and a key lookup that must return the very key that verified it, so a retired or replaced key ends its tokens at once. It shows what a client reusing its token for its lifetime costs; the signature check is what it skips.',
    ],
  )
}

if (import.meta.main) {
  console.log((await report()).markdown)
  process.exit(0)
}
