import { describe, expect, it } from 'bun:test'
import { createServiceTokenVerifier, parseKeyRing, TokenError } from '@flotilla/contracts'
import { DEV_SERVICE_TOKEN_SECRET, FlotillaConfigError, loadFlotillaConfig } from './config.ts'
import { createServiceTokens } from './service-tokens.ts'

const SECRET = 'k1=an-example-secret-that-is-long-enough-0123'

describe('loadFlotillaConfig', () => {
  it('fills development defaults', () => {
    const config = loadFlotillaConfig({})
    expect(config).toMatchObject({
      NODE_ENV: 'development',
      REDIS_URL: 'redis://127.0.0.1:6379',
      EVENTS_STREAM: 'events',
      SERVICE_NAME: 'monolith',
      AUTH_URL: 'http://127.0.0.1:3001',
    })
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('lists every bad variable at once and never echoes a secret', () => {
    const error = (() => {
      try {
        loadFlotillaConfig({
          REDIS_URL: 'localhost',
          AUTH_URL: 'ftp://x',
          SERVICE_NAME: 'Bad Name',
          SERVICE_TOKEN_SECRET: 'too-short-secret',
        })
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(FlotillaConfigError)
    expect((error as FlotillaConfigError).problems.map((p) => p.variable).sort()).toEqual([
      'AUTH_URL',
      'REDIS_URL',
      'SERVICE_NAME',
    ])
    expect((error as Error).message).not.toContain('too-short-secret')
    // The secret is checked once the rest parses, and named without its value.
    expect(() => loadFlotillaConfig({ SERVICE_TOKEN_SECRET: 'too-short-secret' })).toThrow(
      /^(?!.*too-short-secret).*SERVICE_TOKEN_SECRET/,
    )
  })

  it('refuses a short secret and the development secret in production', () => {
    expect(() => loadFlotillaConfig({ SERVICE_TOKEN_SECRET: 'short' })).toThrow(/SERVICE_TOKEN_SECRET/)
    expect(() => loadFlotillaConfig({ NODE_ENV: 'production' })).toThrow(/development default/)
    expect(() =>
      loadFlotillaConfig({ NODE_ENV: 'production', SERVICE_TOKEN_SECRET: DEV_SERVICE_TOKEN_SECRET }),
    ).toThrow(FlotillaConfigError)
    expect(loadFlotillaConfig({ NODE_ENV: 'production', SERVICE_TOKEN_SECRET: SECRET }).NODE_ENV).toBe(
      'production',
    )
  })
})

describe('loadFlotillaConfig: Redis Cluster', () => {
  it('reads REDIS_CLUSTER and takes several nodes only with it', () => {
    const nodes = 'redis://10.0.0.1:6379,redis://10.0.0.2:6379'
    expect(loadFlotillaConfig({}).REDIS_CLUSTER).toBe(false)
    expect(loadFlotillaConfig({ REDIS_URL: nodes, REDIS_CLUSTER: 'true' })).toMatchObject({
      REDIS_URL: nodes,
      REDIS_CLUSTER: true,
    })
    expect(() => loadFlotillaConfig({ REDIS_URL: nodes })).toThrow(/REDIS_URL .*set REDIS_CLUSTER=true/)
    expect(() => loadFlotillaConfig({ REDIS_CLUSTER: 'yes' })).toThrow(/REDIS_CLUSTER/)
  })
})

describe('createServiceTokens', () => {
  it('mints tokens the target service accepts, naming the monolith as caller', async () => {
    const config = loadFlotillaConfig({ SERVICE_TOKEN_SECRET: SECRET, SERVICE_NAME: 'shop' })
    const token = await createServiceTokens(config).sign({ audience: 'auth' })
    const verified = await createServiceTokenVerifier(parseKeyRing(SECRET), { audience: 'auth' }).verify(
      token,
    )
    expect(verified.service).toBe('shop')
  })

  it('mints tokens another service refuses (audience bound)', async () => {
    const config = loadFlotillaConfig({ SERVICE_TOKEN_SECRET: SECRET })
    const token = await createServiceTokens(config).sign({ audience: 'auth' })
    const audit = createServiceTokenVerifier(parseKeyRing(SECRET), { audience: 'audit' })
    await expect(audit.verify(token)).rejects.toBeInstanceOf(TokenError)
  })
})
