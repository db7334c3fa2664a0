import { describe, expect, it } from 'bun:test'
import { loadConfig } from './config.ts'

describe('monolith config', () => {
  it('runs on development defaults', () => {
    expect(loadConfig({})).toMatchObject({
      PORT: 3000,
      DATABASE_SCHEMA: 'public',
      OUTBOX_RELAY: true,
      OUTBOX_POLL_MS: 1000,
      SERVICE_NAME: 'monolith',
      PASSWORD_CHANGED_VERSION: 2,
    })
    expect(loadConfig({ PASSWORD_CHANGED_VERSION: '1' }).PASSWORD_CHANGED_VERSION).toBe(1)
  })

  it('names every bad variable at once', () => {
    const env = {
      PORT: 'eighty',
      DATABASE_SCHEMA: 'Drop Table',
      OUTBOX_RELAY: 'yes',
      DATABASE_URL: 'mysql://x',
      PASSWORD_CHANGED_VERSION: '3',
    }
    const message = (() => {
      try {
        loadConfig(env)
        return ''
      } catch (error) {
        return (error as Error).message
      }
    })()
    for (const name of Object.keys(env)) expect(message).toContain(name)
  })

  it('refuses the development service-token secret in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SERVICE_TOKEN_SECRET/)
  })
})
