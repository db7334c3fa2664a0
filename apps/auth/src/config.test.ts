import { describe, expect, it } from 'bun:test'
import { DEV_SERVICE_TOKEN_SECRET } from '@flotilla/service-kit'
import { DEV_KEY_ENCRYPTION_SECRET, loadAuthConfig, settingsOf } from './config.ts'

const strong = (label: string) => `${label}-${crypto.randomUUID()}-${crypto.randomUUID()}`
const production = (overrides: Record<string, string | undefined> = {}) => ({
  NODE_ENV: 'production',
  REDIS_URL: 'rediss://redis.internal:6379',
  SERVICE_TOKEN_SECRET: strong('svc'),
  AUTH_KEY_ENCRYPTION_SECRET: strong('kek'),
  ...overrides,
})
const problem = (env: Record<string, string | undefined>) => {
  try {
    loadAuthConfig(env)
    return ''
  } catch (error) {
    return (error as Error).message
  }
}

describe('auth configuration', () => {
  it('starts in development on defaults, with port 3001', () => {
    const config = loadAuthConfig({})
    expect(config.PORT).toBe(3001)
    expect(config.AUTH_KEY_ENCRYPTION_SECRET).toBe(DEV_KEY_ENCRYPTION_SECRET)
    expect(settingsOf(config).rateLimits['refresh:ip'].points).toBeGreaterThan(0)
  })

  it('starts in production with strong secrets', () => {
    expect(loadAuthConfig(production()).NODE_ENV).toBe('production')
  })

  it('refuses to start in production without a key-encryption secret, naming the variable', () => {
    expect(problem(production({ AUTH_KEY_ENCRYPTION_SECRET: undefined }))).toContain(
      'AUTH_KEY_ENCRYPTION_SECRET',
    )
  })

  it('refuses the development secrets in production', () => {
    expect(problem(production({ AUTH_KEY_ENCRYPTION_SECRET: DEV_KEY_ENCRYPTION_SECRET }))).toContain(
      'AUTH_KEY_ENCRYPTION_SECRET',
    )
    expect(problem(production({ SERVICE_TOKEN_SECRET: DEV_SERVICE_TOKEN_SECRET }))).toContain(
      'SERVICE_TOKEN_SECRET',
    )
  })

  it('refuses short or low-entropy secrets in production', () => {
    expect(problem(production({ AUTH_KEY_ENCRYPTION_SECRET: 'short-secret' }))).toContain(
      'AUTH_KEY_ENCRYPTION_SECRET',
    )
    expect(problem(production({ AUTH_KEY_ENCRYPTION_SECRET: 'a'.repeat(64) }))).toContain(
      'AUTH_KEY_ENCRYPTION_SECRET',
    )
    expect(problem(production({ SERVICE_TOKEN_SECRET: '0'.repeat(64) }))).toContain('SERVICE_TOKEN_SECRET')
  })

  it('refuses the same secret for key encryption and service tokens in production', () => {
    const shared = strong('shared')
    expect(
      problem(production({ AUTH_KEY_ENCRYPTION_SECRET: shared, SERVICE_TOKEN_SECRET: shared })),
    ).toContain('must differ')
  })

  it('refuses inconsistent lifetimes', () => {
    expect(problem({ AUTH_SESSION_IDLE_SECONDS: '7200', AUTH_SESSION_ABSOLUTE_SECONDS: '3600' })).toContain(
      'AUTH_SESSION_IDLE_SECONDS',
    )
    expect(problem({ AUTH_KEY_ROTATION_SECONDS: '3600', AUTH_KEY_PREPUBLISH_SECONDS: '3600' })).toContain(
      'AUTH_KEY_PREPUBLISH_SECONDS',
    )
    expect(problem({ AUTH_ACCESS_TOKEN_TTL_SECONDS: 'abc' })).toContain('AUTH_ACCESS_TOKEN_TTL_SECONDS')
  })
})
