/** `GET /.well-known/jwks.json`: the public keys that verify access tokens (signing, upcoming and retiring). */
import { Elysia, t } from 'elysia'
import { ErrorBody, errorList } from '../errors.ts'
import { jsonBody } from '../http/body.ts'
import type { Guards } from '../http/guards.ts'
import type { KeyRing } from './key-ring.ts'

export const Jwks = t.Object({
  keys: t.Array(
    t.Object({
      kty: t.String({ examples: ['OKP'] }),
      crv: t.Optional(t.String({ examples: ['Ed25519'] })),
      x: t.Optional(t.String()),
      y: t.Optional(t.String()),
      kid: t.String(),
      alg: t.String({ examples: ['EdDSA'] }),
      use: t.Optional(t.String({ examples: ['sig'] })),
    }),
  ),
})

const describe = (summary: string, extra = '') => ({
  tags: ['tokens'],
  summary,
  // Public: verifiers fetch it without a token.
  security: [],
  description: `EdDSA (Ed25519) public keys with \`kid\`: the key that signs now, a key about to sign (published ahead so caches know it), and retired keys until every token they signed has expired. No authentication; cacheable for a minute (verifiers refetch sooner when they meet an unknown kid).${extra}`,
})

/** The JWKS at its well-known path, and at `/v1/jwks` (the same document; Swagger lists only that one). */
export const jwksRoutes = (keyRing: KeyRing) => {
  const serve = async ({ set }: { set: { headers: Record<string, string | number> } }) => {
    // Redis down: serve the keys in memory (a verifier needs them most when it cannot ask anything else).
    await keyRing.refresh().catch(() => undefined)
    set.headers['cache-control'] = 'public, max-age=60'
    return keyRing.jwks()
  }
  return new Elysia({ name: 'auth/jwks' })
    .get('/.well-known/jwks.json', serve, {
      response: { 200: Jwks },
      detail: describe('Public signing keys (JWKS)'),
    })
    .get('/v1/jwks', serve, {
      response: { 200: Jwks },
      detail: describe(
        'Public signing keys (JWKS), also at /.well-known/jwks.json',
        '\n\nThe same document as `GET /.well-known/jwks.json` (the path verifiers are configured with).',
      ),
    })
}

const RotateBody = t.Object(
  {
    retirePrevious: t.Optional(
      t.Boolean({ default: false, description: 'also delete every other key at once (a key leaked)' }),
    ),
  },
  { additionalProperties: false },
)
const Rotated = t.Object({
  kid: t.String({ description: 'the key that signs from now on' }),
  retired: t.Array(t.String(), { description: 'keys removed from the JWKS (only with retirePrevious)' }),
})

/** `POST /v1/keys/rotate`: operator-triggered rotation, optionally retiring every other key at once. */
export const keyAdminRoutes = (keyRing: KeyRing, guards: Guards) =>
  new Elysia({ name: 'auth/keys-admin' })
    .use(guards.service)
    .post(
      '/v1/keys/rotate',
      async ({ body }) =>
        body.retirePrevious ? keyRing.rotateAndRetire() : { kid: await keyRing.rotateNow(), retired: [] },
      {
        body: RotateBody,
        parse: [...jsonBody],
        response: { 200: Rotated, 401: ErrorBody, 422: ErrorBody },
        detail: {
          tags: ['tokens'],
          summary: 'Rotate the signing key now',
          description: `Service token only (operators). Without \`retirePrevious\` the previous key stays published until its tokens expire, like a scheduled rotation. With \`retirePrevious: true\` (a key leaked) every other key is deleted at once: tokens they signed stop verifying here immediately, and in every other app and auth instance too: the retirement is published on the revocation channel their verifiers listen to (their JWKS caches are reloaded too); users refresh to get new tokens.${errorList('INVALID_TOKEN', 'VALIDATION_FAILED')}`,
          security: [{ bearer: [] }],
        },
      },
    )
