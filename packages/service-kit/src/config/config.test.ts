import { describe, expect, it } from 'bun:test'
import { bunCommand } from '@flotilla/streams/testing'
import { Type } from '@sinclair/typebox'
import { t } from 'elysia'
import { baseConfig, DEV_SERVICE_TOKEN_SECRET } from './base.ts'
import { ConfigError } from './config-error.ts'
import { devDefault, secretString } from './fields.ts'
import { loadConfig } from './load-config.ts'

const STRONG = 'Zq8#mW2$vR5!pL9@xT4%nB7^cF1&hJ6*'

const problemsOf = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  throw new Error('expected a ConfigError')
}

/** Production with the one variable every production test sets anyway. */
const PROD = { NODE_ENV: 'production', REDIS_URL: 'rediss://redis.internal:6379' } as const

describe('loadConfig', () => {
  it('applies the shared defaults outside production', () => {
    const config = loadConfig(baseConfig({ port: 3003 }), {})
    expect(config).toEqual({
      NODE_ENV: 'development',
      PORT: 3003,
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_CLUSTER: false,
      EVENTS_STREAM: 'events',
      SERVICE_TOKEN_SECRET: DEV_SERVICE_TOKEN_SECRET,
      DATA_DIR: './.data',
      LOG_LEVEL: 'info',
    })
  })

  it('converts numbers, booleans and comma-separated lists from strings', () => {
    const schema = Type.Composite([
      baseConfig(),
      Type.Object({
        ENABLED: Type.Boolean(),
        RATIO: Type.Number(),
        ORIGINS: Type.Array(Type.String()),
        PORTS: Type.Array(Type.Integer()),
      }),
    ])
    const config = loadConfig(schema, {
      PORT: '8080',
      ENABLED: 'yes',
      RATIO: '0.25',
      ORIGINS: 'https://a.example, https://b.example,',
      PORTS: '1,2',
    })
    expect(config.PORT).toBe(8080)
    expect(config.ENABLED).toBe(true)
    expect(config.RATIO).toBe(0.25)
    expect(config.ORIGINS).toEqual(['https://a.example', 'https://b.example'])
    expect(config.PORTS).toEqual([1, 2])
  })

  it("converts Elysia's t.Integer and t.Numeric to numbers (they also accept numeric strings)", () => {
    const schema = t.Object({ TTL: t.Integer({ minimum: 1 }), RATIO: t.Numeric() })
    const config = loadConfig(schema, { TTL: '900', RATIO: '0.5' })
    expect(config.TTL).toBe(900)
    expect(config.RATIO).toBe(0.5)
    expect(problemsOf(() => loadConfig(schema, { TTL: '0', RATIO: 'x' })).map((p) => p.variable)).toEqual([
      'TTL',
      'RATIO',
    ])
  })

  it('names every bad variable in one error', () => {
    const schema = Type.Composite([baseConfig(), Type.Object({ RESEND_API_KEY: Type.String() })])
    const problems = problemsOf(() =>
      loadConfig(schema, {
        PORT: 'eighty',
        REDIS_URL: 'http://not-redis',
        LOG_LEVEL: 'loud',
        SERVICE_TOKEN_SECRET: 'short',
      }),
    )
    expect(problems.map((p) => p.variable).sort()).toEqual(
      ['LOG_LEVEL', 'PORT', 'REDIS_URL', 'RESEND_API_KEY', 'SERVICE_TOKEN_SECRET'].sort(),
    )
    expect(problems.find((p) => p.variable === 'RESEND_API_KEY')?.message).toContain('required')
  })

  it('lists each problem in the message without echoing the values', () => {
    try {
      loadConfig(baseConfig(), { PORT: '70000', SERVICE_TOKEN_SECRET: 'tiny-secret-value' })
      throw new Error('expected a ConfigError')
    } catch (error) {
      const message = (error as Error).message
      expect(message).toContain('PORT:')
      expect(message).toContain('SERVICE_TOKEN_SECRET:')
      expect(message).not.toContain('tiny-secret-value')
    }
  })

  it('refuses to start in production without REDIS_URL and the service token secret, naming both', () => {
    const problems = problemsOf(() => loadConfig(baseConfig(), { NODE_ENV: 'production' }))
    expect(problems).toEqual([
      { variable: 'REDIS_URL', message: expect.stringContaining('must be set in production') },
      { variable: 'SERVICE_TOKEN_SECRET', message: expect.stringContaining('must be set in production') },
    ])
  })

  it('accepts a local REDIS_URL in production when it is set explicitly', () => {
    const config = loadConfig(baseConfig(), {
      ...PROD,
      REDIS_URL: 'redis://127.0.0.1:6379',
      SERVICE_TOKEN_SECRET: STRONG,
    })
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379')
  })

  it('refuses the development default secret in production', () => {
    const problems = problemsOf(() =>
      loadConfig(baseConfig(), { ...PROD, SERVICE_TOKEN_SECRET: DEV_SERVICE_TOKEN_SECRET }),
    )
    expect(problems[0]?.variable).toBe('SERVICE_TOKEN_SECRET')
    expect(problems[0]?.message).toContain('development default')
  })

  it('refuses a short or low-entropy secret in production', () => {
    expect(
      problemsOf(() => loadConfig(baseConfig(), { ...PROD, SERVICE_TOKEN_SECRET: 'x'.repeat(20) }))[0]
        ?.message,
    ).toContain('shorter than 32 bytes')
    expect(
      problemsOf(() => loadConfig(baseConfig(), { ...PROD, SERVICE_TOKEN_SECRET: 'a'.repeat(40) }))[0]
        ?.message,
    ).toContain('too weak')
  })

  it('starts in production with a strong secret and a rotated key ring', () => {
    const config = loadConfig(baseConfig(), {
      ...PROD,
      SERVICE_TOKEN_SECRET: `k2=${STRONG},k1=${STRONG.split('').reverse().join('')}`,
    })
    expect(config.NODE_ENV).toBe('production')
  })

  it('lets apps declare their own development-only fields and secrets', () => {
    const schema = Type.Composite([
      baseConfig(),
      Type.Object({
        COOKIE_SECRET: devDefault(secretString(Type.String()), 'dev-cookie-secret-0123456789abcdef'),
        WEBHOOK_URL: Type.Optional(Type.String({ format: 'uri' })),
      }),
    ])
    expect(loadConfig(schema, {}).COOKIE_SECRET).toBe('dev-cookie-secret-0123456789abcdef')
    expect(loadConfig(schema, {}).WEBHOOK_URL).toBeUndefined()
    const problems = problemsOf(() => loadConfig(schema, { ...PROD, SERVICE_TOKEN_SECRET: STRONG }))
    expect(problems.map((p) => p.variable)).toEqual(['COOKIE_SECRET'])
  })

  it('checks uri and email formats before any other module registers them', () => {
    const schema = Type.Object({
      WEBHOOK_URL: Type.String({ format: 'uri' }),
      FROM: Type.String({ format: 'email' }),
    })
    expect(
      loadConfig(schema, { WEBHOOK_URL: 'https://hooks.example/x', FROM: 'ops@flotilla.dev' }).FROM,
    ).toBe('ops@flotilla.dev')
    expect(
      problemsOf(() => loadConfig(schema, { WEBHOOK_URL: 'not a url', FROM: 'nobody' })).map(
        (p) => p.variable,
      ),
    ).toEqual(['WEBHOOK_URL', 'FROM'])
  })

  it('returns a frozen object', () => {
    const config = loadConfig(baseConfig(), {})
    expect(Object.isFrozen(config)).toBe(true)
    expect(() => {
      ;(config as { PORT: number }).PORT = 1
    }).toThrow()
  })

  it('treats an empty value as unset', () => {
    expect(loadConfig(baseConfig(), { PORT: '' }).PORT).toBe(3000)
  })
})

describe('loadConfigOrExit', () => {
  it('prints every problem and exits with code 1', async () => {
    const script = `import { baseConfig, loadConfigOrExit } from '${import.meta.dir}/../index.ts'
loadConfigOrExit(baseConfig())
console.log('started')`
    const proc = Bun.spawn(bunCommand('-e', script), {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: 'x' },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [code, stdout, stderr] = await Promise.all([
      proc.exited,
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
    ])
    expect(code).toBe(1)
    expect(stdout).not.toContain('started')
    expect(stderr).toContain('PORT:')
    expect(stderr).toContain('SERVICE_TOKEN_SECRET:')
  })
})
