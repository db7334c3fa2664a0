/**
 * Local access-token check: the kit's JWKS verifier (`createAccessTokenVerifier`) against jose's own
 * `jwtVerify` of the same token with the same local JWKS, 64 verifications in flight.
 */
import { createAccessTokenVerifier } from '@flotilla/service-kit'
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose'
import { withInFlight } from './lib/fixtures.ts'
import { compare, section, timed } from './lib/harness.ts'

const N = Number(process.env.BENCH_TOKEN_VERIFICATIONS ?? 20_000)
const IN_FLIGHT = 64
const JOSE = 'jose jwtVerify (same JWKS, issuer, audience, typ)'

/** An EdDSA `at+jwt` shaped like the auth service's (iss, aud, sub, sid, jti, iat, exp, scope). */
const issue = async () => {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-key-1', alg: 'EdDSA', use: 'sig' }
  const token = await new SignJWT({ sid: 's_bench', scope: 'profile', did: 'd_bench' })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: jwk.kid })
    .setIssuer('flotilla-auth')
    .setAudience('flotilla')
    .setSubject('u_bench')
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(privateKey)
  return { token, jwks: { keys: [jwk] }, publicKey }
}

/** The markdown section for docs/benchmarks.md. */
export const report = async (): Promise<string> => {
  const { token, jwks, publicKey } = await issue()
  const verifier = createAccessTokenVerifier({ jwks })
  const localSet = createLocalJWKSet(jwks)
  const joseOptions = { algorithms: ['EdDSA'], issuer: 'flotilla-auth', audience: 'flotilla', typ: 'at+jwt' }
  // Both must accept the token, or the comparison means nothing.
  await verifier.verify(token)
  await jwtVerify(token, localSet, joseOptions)
  const result = await compare({
    title: `local access-token check, ${N.toLocaleString('en-US')} verifications, ${IN_FLIGHT} in flight`,
    unit: 'verifications/s',
    contenders: [
      {
        name: 'kit createAccessTokenVerifier',
        run: () => timed(N, () => withInFlight(N, IN_FLIGHT, () => verifier.verify(token))),
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
  return section(result, JOSE, '≥ 0.9× jose', [
    "The kit adds, before any crypto: a length and segment check, a header decode that refuses `jwk`/`jku`/`x5u`/`x5c`/`crit`, an algorithm allow-list and a `kid` pattern; after: the required claims (`sub sid jti iat exp`), a maximum token age and the principal object. The token is an EdDSA (Ed25519) `at+jwt` signed here with jose in the auth service's shape.",
  ])
}

if (import.meta.main) {
  console.log(await report())
  process.exit(0)
}
