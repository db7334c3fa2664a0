/** `GET /.well-known/jwks.json`: the public keys that verify access tokens (signing, upcoming and retiring). */
import { Elysia, t } from 'elysia'
import type { KeyRing } from './key-ring.ts'

const Jwks = t.Object({
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

/** The JWKS route; public, cacheable for a minute (verifiers refetch sooner when they meet an unknown kid). */
export const jwksRoutes = (keyRing: KeyRing) =>
  new Elysia({ name: 'auth/jwks' }).get(
    '/.well-known/jwks.json',
    async ({ set }) => {
      await keyRing.refresh()
      set.headers['cache-control'] = 'public, max-age=60'
      return keyRing.jwks()
    },
    {
      response: { 200: Jwks },
      detail: {
        tags: ['tokens'],
        summary: 'Public signing keys (JWKS)',
        description:
          'EdDSA (Ed25519) public keys with `kid`. Holds the key that signs now, a key about to sign (published ahead so caches know it), and retired keys until every token they signed has expired. No authentication.',
      },
    },
  )
