/** A fresh Ed25519 key and a signer of access tokens shaped like the auth service's (iss, aud, sub, sid, jti, iat, exp, scope). */
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose'

/** Generates the key; `sign(claims)` issues an EdDSA `at+jwt` for `u_bench`, valid 15 minutes, that `jwks` verifies. */
export const createBenchSigner = async () => {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-key-1', alg: 'EdDSA', use: 'sig' }
  const sign = (claims: JWTPayload) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: jwk.kid })
      .setIssuer('flotilla-auth')
      .setAudience('flotilla')
      .setSubject('u_bench')
      .setJti(crypto.randomUUID())
      .setIssuedAt()
      .setExpirationTime('15m')
      .sign(privateKey)
  return { jwks: { keys: [jwk] }, publicKey, sign }
}
