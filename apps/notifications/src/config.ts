/** The notification service's configuration: the only place that reads the environment (via the kit's loadConfig). */
import { join } from 'node:path'
import { baseConfig, type ConfigProblem, isPostgresUrl, loadConfig } from '@flotilla/service-kit'
import { TelemetryConfigSchema } from '@flotilla/telemetry'
import { t } from 'elysia'
import { CHANNEL_PROVIDERS, type TransportSettings } from './channels/index.ts'
import type { Settings } from './deps.ts'
import type { ChannelName } from './templates/model.ts'

const int = (fallback: number, minimum: number, maximum: number, description: string) =>
  t.Integer({ minimum, maximum, default: fallback, description })
const providerList = (choices: string) =>
  t.Optional(
    t.String({
      pattern: '^[a-z-]+(,[a-z-]+)*$',
      description: `ordered providers (${choices}); the next takes over when one is down`,
    }),
  )
const optionalUrl = (description: string) => t.Optional(t.String({ pattern: '^https?://', description }))

/** Every variable the notification service reads, with defaults (see `.env.example`). */
export const NotificationsConfigSchema = t.Object({
  ...baseConfig({ port: 3002 }).properties,
  ...TelemetryConfigSchema.properties,
  NOTIFICATIONS_DB_URL: t.Optional(
    t.String({ pattern: '^(file:|libsql://|https?://|wss?://|postgres(ql)?://)' }),
  ),
  NOTIFICATIONS_DB_AUTH_TOKEN: t.Optional(t.String({ minLength: 1 })),
  NOTIFICATIONS_REDIS_PREFIX: t.String({ pattern: '^[^\\s{}]+$', maxLength: 100, default: 'notifications:' }),
  NOTIFICATIONS_DEFAULT_LOCALE: t.String({ pattern: '^[a-z]{2,3}$', default: 'en' }),
  NOTIFICATIONS_APP_NAME: t.String({ minLength: 1, maxLength: 100, default: 'Flotilla' }),
  NOTIFICATIONS_APP_URL: t.String({ pattern: '^https?://', default: 'http://localhost:3000' }),
  NOTIFICATIONS_MAX_DELIVERIES: int(8, 1, 50, 'deliveries of an event before it is dead-lettered'),
  NOTIFICATIONS_CONCURRENCY: int(64, 1, 256, 'events handled at once, as one batch (their writes shared)'),
  NOTIFICATIONS_CLAIM_IDLE_MS: int(
    30_000,
    1000,
    3_600_000,
    'idle time before another instance takes an entry',
  ),
  NOTIFICATIONS_RETRY_BASE_MS: int(2000, 10, 600_000, 'first retry delay ceiling (full jitter)'),
  NOTIFICATIONS_RETRY_MAX_MS: int(300_000, 100, 86_400_000, 'longest retry delay'),
  NOTIFICATIONS_PROVIDER_TIMEOUT_MS: int(10_000, 100, 120_000, 'per provider request'),
  NOTIFICATIONS_RATE_LIMIT_MAX_WAIT_MS: int(10_000, 0, 60_000, 'longest in-process wait for a send slot'),
  EMAIL_FROM: t.String({ minLength: 3, maxLength: 320, default: 'Flotilla <no-reply@flotilla.local>' }),
  RESEND_API_KEY: t.Optional(t.String({ minLength: 1, description: 'unset: emails go to the local outbox' })),
  RESEND_BASE_URL: optionalUrl('Resend API base URL'),
  RESEND_RATE_PER_SECOND: t.Number({ minimum: 0, maximum: 10_000, default: 2 }),
  RESEND_WEBHOOK_SECRET: t.Optional(t.String({ pattern: '^whsec_[A-Za-z0-9+/=]+$' })),
  TWILIO_ACCOUNT_SID: t.Optional(t.String({ pattern: '^AC[0-9a-fA-F]{32}$' })),
  TWILIO_AUTH_TOKEN: t.Optional(t.String({ minLength: 8 })),
  TWILIO_FROM: t.Optional(t.String({ pattern: '^(\\+[1-9][0-9]{6,14}|MG[0-9a-fA-F]{32})$' })),
  TWILIO_BASE_URL: optionalUrl('Twilio API base URL'),
  TWILIO_RATE_PER_SECOND: t.Number({ minimum: 0, maximum: 10_000, default: 10 }),
  VAPID_SUBJECT: t.Optional(t.String({ pattern: '^(mailto:|https://)' })),
  VAPID_PUBLIC_KEY: t.Optional(t.String({ pattern: '^[A-Za-z0-9_-]{80,100}$' })),
  VAPID_PRIVATE_KEY: t.Optional(t.String({ pattern: '^[A-Za-z0-9_-]{40,50}$' })),
  WEBPUSH_RATE_PER_SECOND: t.Number({ minimum: 0, maximum: 10_000, default: 50 }),
  NOTIFICATIONS_EMAIL_PROVIDERS: providerList('email: resend, outbox'),
  NOTIFICATIONS_SMS_PROVIDERS: providerList('sms: twilio, outbox'),
  NOTIFICATIONS_PUSH_PROVIDERS: providerList('push: web-push, outbox'),
  NOTIFICATIONS_CIRCUIT_FAILURES: int(
    5,
    1,
    1000,
    'consecutive transient failures that open a provider circuit',
  ),
  NOTIFICATIONS_CIRCUIT_OPEN_MS: int(30_000, 100, 3_600_000, 'how long an open circuit skips its provider'),
  NOTIFICATIONS_DUE_POLL_MS: int(
    1000,
    50,
    60_000,
    'how often scheduled, held and digest deliveries are checked for their time',
  ),
  NOTIFICATIONS_DIGEST_WINDOW_MS: t.Optional(
    t.Integer({ minimum: 100, maximum: 86_400_000, description: "replaces every template's digest window" }),
  ),
  NOTIFICATIONS_THROTTLE: t.Optional(
    t.String({
      pattern:
        '^[a-z0-9][a-z0-9_-]{0,63}=[1-9][0-9]{0,5}/[1-9][0-9]{0,6}(,[a-z0-9][a-z0-9_-]{0,63}=[1-9][0-9]{0,5}/[1-9][0-9]{0,6})*$',
      description: 'limits per recipient × category: `category=count/seconds,…` (e.g. marketing=5/3600)',
    }),
  ),
})
export type NotificationsConfig = typeof NotificationsConfigSchema.static

const allOrNone = (c: NotificationsConfig, names: (keyof NotificationsConfig)[]): ConfigProblem[] => {
  const set = names.filter((name) => c[name] !== undefined)
  const missing = names.filter((n) => !set.includes(n))
  return set.length === 0 || set.length === names.length
    ? []
    : missing.map((variable) => ({
        variable,
        message: `set all of ${names.join(', ')} or none (missing: ${missing.join(', ')})`,
      }))
}

const PROVIDER_VARIABLES = {
  email: 'NOTIFICATIONS_EMAIL_PROVIDERS',
  sms: 'NOTIFICATIONS_SMS_PROVIDERS',
  push: 'NOTIFICATIONS_PUSH_PROVIDERS',
} as const satisfies Record<ChannelName, keyof NotificationsConfig>

const providersOf = (c: NotificationsConfig, channel: ChannelName) =>
  c[PROVIDER_VARIABLES[channel]]?.split(',')

/** Whether a provider has what it needs (the outbox always has). */
const isConfigured = (c: NotificationsConfig, provider: string) =>
  provider === 'outbox' ||
  (provider === 'resend' && c.RESEND_API_KEY !== undefined) ||
  (provider === 'twilio' && c.TWILIO_ACCOUNT_SID !== undefined) ||
  (provider === 'web-push' && c.VAPID_SUBJECT !== undefined)

const providerProblems = (c: NotificationsConfig): ConfigProblem[] =>
  (Object.keys(PROVIDER_VARIABLES) as ChannelName[]).flatMap((channel) => {
    const variable = PROVIDER_VARIABLES[channel]
    const listed = providersOf(c, channel) ?? []
    const known: readonly string[] = CHANNEL_PROVIDERS[channel]
    return [
      ...listed
        .filter((p) => !known.includes(p))
        .map((p) => ({ variable, message: `${p} cannot send ${channel} (one of: ${known.join(', ')})` })),
      ...listed
        .filter((p) => known.includes(p) && !isConfigured(c, p))
        .map((p) => ({ variable, message: `${p} is listed but not configured` })),
      ...(new Set(listed).size === listed.length ? [] : [{ variable, message: 'names a provider twice' }]),
    ]
  })

const crossChecks = (c: NotificationsConfig): ConfigProblem[] => [
  ...providerProblems(c),
  ...allOrNone(c, ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM']),
  ...allOrNone(c, ['VAPID_SUBJECT', 'VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY']),
  ...(c.NODE_ENV === 'production' && c.RESEND_API_KEY && !c.RESEND_WEBHOOK_SECRET
    ? [
        {
          variable: 'RESEND_WEBHOOK_SECRET',
          message: 'must be set in production when RESEND_API_KEY is (delivery status comes from it)',
        },
      ]
    : []),
  ...(c.NOTIFICATIONS_DB_AUTH_TOKEN && isPostgresUrl(c.NOTIFICATIONS_DB_URL)
    ? [
        {
          variable: 'NOTIFICATIONS_DB_AUTH_TOKEN',
          message: 'is for a libSQL server; PostgreSQL credentials go in NOTIFICATIONS_DB_URL',
        },
      ]
    : []),
  ...(c.NOTIFICATIONS_RETRY_BASE_MS > c.NOTIFICATIONS_RETRY_MAX_MS
    ? [{ variable: 'NOTIFICATIONS_RETRY_BASE_MS', message: 'must not exceed NOTIFICATIONS_RETRY_MAX_MS' }]
    : []),
]

/** Loads and checks the configuration; throws (naming every bad variable, never a value) on anything wrong. */
export const loadNotificationsConfig = (
  env: Readonly<Record<string, string | undefined>> = process.env,
): NotificationsConfig => loadConfig(NotificationsConfigSchema, env, crossChecks)

/** Where the database lives: `NOTIFICATIONS_DB_URL`, else a file under `DATA_DIR`. */
export const databaseUrlOf = (c: NotificationsConfig) =>
  c.NOTIFICATIONS_DB_URL ?? `file:${join(c.DATA_DIR, 'notifications', 'notifications.db')}`

/** The domain's settings from the configuration. */
export const settingsOf = (c: NotificationsConfig): Settings => ({
  redisPrefix: c.NOTIFICATIONS_REDIS_PREFIX,
  defaultLocale: c.NOTIFICATIONS_DEFAULT_LOCALE,
  app: { name: c.NOTIFICATIONS_APP_NAME, url: c.NOTIFICATIONS_APP_URL },
  maxDeliveries: c.NOTIFICATIONS_MAX_DELIVERIES,
  providerTimeoutMs: c.NOTIFICATIONS_PROVIDER_TIMEOUT_MS,
  rateLimitMaxWaitMs: c.NOTIFICATIONS_RATE_LIMIT_MAX_WAIT_MS,
  circuit: { failures: c.NOTIFICATIONS_CIRCUIT_FAILURES, openMs: c.NOTIFICATIONS_CIRCUIT_OPEN_MS },
  poller: {
    everyMs: c.NOTIFICATIONS_DUE_POLL_MS,
    retryBaseMs: c.NOTIFICATIONS_RETRY_BASE_MS,
    retryMaxMs: c.NOTIFICATIONS_RETRY_MAX_MS,
  },
  ...(c.NOTIFICATIONS_DIGEST_WINDOW_MS === undefined
    ? {}
    : { digestWindowMs: c.NOTIFICATIONS_DIGEST_WINDOW_MS }),
  throttle: Object.fromEntries(
    (c.NOTIFICATIONS_THROTTLE?.split(',') ?? []).map((entry) => {
      const [category = '', rule = ''] = entry.split('=')
      const [count, seconds] = rule.split('/').map(Number)
      return [category, { limit: count ?? 1, windowMs: (seconds ?? 1) * 1000 }]
    }),
  ),
  rateLimits: {
    resend: c.RESEND_RATE_PER_SECOND,
    twilio: c.TWILIO_RATE_PER_SECOND,
    'web-push': c.WEBPUSH_RATE_PER_SECOND,
  },
  ...(c.RESEND_WEBHOOK_SECRET ? { webhookSecret: c.RESEND_WEBHOOK_SECRET } : {}),
})

/** Transport settings from the configuration (what `createTransports` needs). */
export const transportSettingsOf = (c: NotificationsConfig): TransportSettings => ({
  timeoutMs: c.NOTIFICATIONS_PROVIDER_TIMEOUT_MS,
  emailFrom: c.EMAIL_FROM,
  providers: Object.fromEntries(
    (Object.keys(PROVIDER_VARIABLES) as ChannelName[]).flatMap((channel) => {
      const listed = providersOf(c, channel)
      return listed ? [[channel, listed]] : []
    }),
  ),
  ...(c.RESEND_API_KEY
    ? { resend: { apiKey: c.RESEND_API_KEY, ...(c.RESEND_BASE_URL ? { baseUrl: c.RESEND_BASE_URL } : {}) } }
    : {}),
  ...(c.TWILIO_ACCOUNT_SID && c.TWILIO_AUTH_TOKEN && c.TWILIO_FROM
    ? {
        twilio: {
          accountSid: c.TWILIO_ACCOUNT_SID,
          authToken: c.TWILIO_AUTH_TOKEN,
          from: c.TWILIO_FROM,
          ...(c.TWILIO_BASE_URL ? { baseUrl: c.TWILIO_BASE_URL } : {}),
        },
      }
    : {}),
  ...(c.VAPID_SUBJECT && c.VAPID_PUBLIC_KEY && c.VAPID_PRIVATE_KEY
    ? {
        webPush: {
          vapidSubject: c.VAPID_SUBJECT,
          vapidPublicKey: c.VAPID_PUBLIC_KEY,
          vapidPrivateKey: c.VAPID_PRIVATE_KEY,
        },
      }
    : {}),
})
