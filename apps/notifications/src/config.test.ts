import { describe, expect, it } from 'bun:test'
import { databaseUrlOf, loadNotificationsConfig, settingsOf, transportSettingsOf } from './config.ts'

const STRONG = 'kq9V!x2#Lm7@pR4$tZ8&wB1^nC6*yD3%'

describe('notifications config', () => {
  it('runs locally on defaults: libSQL under DATA_DIR, the outbox for every channel, Resend limited to 2/s', () => {
    const config = loadNotificationsConfig({ DATA_DIR: '/var/lib/flotilla' })
    expect(config.PORT).toBe(3002)
    expect(databaseUrlOf(config)).toBe('file:/var/lib/flotilla/notifications/notifications.db')
    const transports = transportSettingsOf(config)
    expect(transports.resend).toBeUndefined()
    expect(transports.twilio).toBeUndefined()
    expect(transports.webPush).toBeUndefined()
    expect(settingsOf(config).rateLimits.resend).toBe(2)
  })

  it('passes the Resend base URL and key from the environment to the transport settings', () => {
    const config = loadNotificationsConfig({
      RESEND_API_KEY: 're_123',
      RESEND_BASE_URL: 'http://127.0.0.1:9999',
    })
    expect(transportSettingsOf(config).resend).toEqual({ apiKey: 're_123', baseUrl: 'http://127.0.0.1:9999' })
  })

  it('refuses a half-configured Twilio or VAPID, naming what is missing', () => {
    expect(() => loadNotificationsConfig({ TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}` })).toThrow(
      /TWILIO_AUTH_TOKEN, TWILIO_FROM/,
    )
    expect(() => loadNotificationsConfig({ VAPID_SUBJECT: 'mailto:ops@example.com' })).toThrow(
      /VAPID_PUBLIC_KEY/,
    )
  })

  it('refuses production with Resend but no webhook secret, and production with the dev service secret', () => {
    expect(() =>
      loadNotificationsConfig({
        NODE_ENV: 'production',
        REDIS_URL: 'rediss://redis.internal:6379',
        SERVICE_TOKEN_SECRET: STRONG,
        RESEND_API_KEY: 're_live',
      }),
    ).toThrow(/RESEND_WEBHOOK_SECRET/)
    expect(() => loadNotificationsConfig({ NODE_ENV: 'production' })).toThrow(/SERVICE_TOKEN_SECRET/)
  })

  it('reads the ordered providers of each channel and refuses unknown, unconfigured or repeated ones', () => {
    const config = loadNotificationsConfig({
      RESEND_API_KEY: 're_123',
      NOTIFICATIONS_EMAIL_PROVIDERS: 'resend,outbox',
      NOTIFICATIONS_CIRCUIT_FAILURES: '3',
    })
    expect(transportSettingsOf(config).providers).toEqual({ email: ['resend', 'outbox'] })
    expect(settingsOf(config).circuit).toEqual({ failures: 3, openMs: 30_000 })
    const problems = (env: Record<string, string>) => {
      try {
        loadNotificationsConfig(env)
        return ''
      } catch (error) {
        return (error as Error).message
      }
    }
    expect(problems({ NOTIFICATIONS_EMAIL_PROVIDERS: 'twilio' })).toContain('twilio cannot send email')
    expect(problems({ NOTIFICATIONS_SMS_PROVIDERS: 'twilio,outbox' })).toContain(
      'twilio is listed but not configured',
    )
    expect(problems({ NOTIFICATIONS_PUSH_PROVIDERS: 'outbox,outbox' })).toContain('names a provider twice')
  })
})
