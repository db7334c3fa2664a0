/** The demo's script: what a day of the monolith looks like, as a list of steps (events and auth calls). */
import type { AnyEvent } from '@flotilla/contracts'
import { createCustomEvent, createEvent } from '@flotilla/contracts'

/** One thing the monolith does: publish an event, or start a session at auth (over HTTP). */
export type DemoStep =
  | { readonly kind: 'event'; readonly event: AnyEvent }
  | {
      readonly kind: 'session'
      readonly userId: string
      readonly tenantId: string
      readonly device: { id: string; name: string; userAgent: string; ip: string }
      /** Published instead when auth is not running, so the login still shows in audit and analytics. */
      readonly fallback: AnyEvent
    }

/**
 * Template the demo asks notifications for explicitly (one notifications ships). Welcome emails need no
 * request: notifications sends them on `user.registered` by its own rule.
 */
export const DEMO_TEMPLATE = 'password-reset'

const FIRST = ['Ada', 'Grace', 'Linus', 'Margaret', 'Alan', 'Barbara', 'Ken', 'Radia', 'Edsger', 'Frances']
const LAST = [
  'Lovelace',
  'Hopper',
  'Torvalds',
  'Hamilton',
  'Turing',
  'Liskov',
  'Thompson',
  'Perlman',
  'Dijkstra',
]
const TENANTS = ['acme', 'globex', 'initech']
const LOCALES: [string, string][] = [
  ['en', 'Europe/London'],
  ['fr-FR', 'Europe/Paris'],
  ['en-US', 'America/New_York'],
  ['ja', 'Asia/Tokyo'],
]
const DEVICES = [
  { name: 'iPhone', userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148' },
  { name: 'Pixel', userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/124.0 Mobile' },
  { name: 'MacBook', userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) Safari/605.1.15' },
  { name: 'Windows PC', userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0' },
]

/** A seeded generator, so `--seed` replays the same day. */
const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

export interface DemoOptions {
  readonly users: number
  /** Spread the journeys over this many past hours, so the dashboard has a curve. */
  readonly hours: number
  readonly seed: number
  readonly now?: number
}

/** Builds every step of the demo, user journey by user journey, oldest first. */
export const planDemo = ({ users, hours, seed, now = Date.now() }: DemoOptions): DemoStep[] => {
  const random = mulberry32(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const chance = (p: number) => random() < p
  const run = `${seed.toString(36)}${Math.floor(now / 1000).toString(36)}`
  const steps: DemoStep[] = []

  for (let i = 0; i < users; i++) {
    const userId = `u_${run}_${i}`
    const tenantId = pick(TENANTS)
    const [locale, timezone] = pick(LOCALES)
    const first = pick(FIRST)
    const last = pick(LAST)
    const email = `${first}.${last}.${i}@example.com`.toLowerCase()
    // Journeys start across the window; their steps follow minutes apart.
    let at = now - hours * 3_600_000 * (1 - i / Math.max(1, users)) - random() * 600_000
    const correlationId = `demo-${run}-${i}`
    const base = { source: 'monolith', tenantId, correlationId, actor: { type: 'user', id: userId } }
    const next = () => {
      at += 30_000 + random() * 300_000
      return new Date(Math.min(at, now)).toISOString()
    }
    const event = (e: AnyEvent) => steps.push({ kind: 'event', event: e })
    const login = (deviceIndex: number) => {
      const device = DEVICES[deviceIndex % DEVICES.length]!
      const ip = `203.0.113.${1 + Math.floor(random() * 250)}`
      const deviceId = `${device.name.toLowerCase().replace(/\W+/g, '-')}-${i}`
      const occurredAt = next()
      const payload = { userId, method: 'password' as const, ip, userAgent: device.userAgent, deviceId }
      event(
        createEvent(
          'user.login.succeeded',
          { ...payload, durationMs: Math.round(80 + random() * 400) },
          { ...base, occurredAt },
        ),
      )
      steps.push({
        kind: 'session',
        userId,
        tenantId,
        device: { id: deviceId, name: `${first}'s ${device.name}`, userAgent: device.userAgent, ip },
        fallback: createEvent(
          'auth.device.added',
          { userId, deviceId, name: device.name, userAgent: device.userAgent, ip },
          {
            ...base,
            source: 'auth',
            occurredAt,
          },
        ),
      })
    }

    event(
      createEvent(
        'user.registered',
        { userId, email, name: `${first} ${last}`, locale, timezone },
        { ...base, occurredAt: next() },
      ),
    )
    if (chance(0.3)) {
      event(
        createEvent(
          'user.login.failed',
          { userId, identifier: email, reason: 'bad_credentials', ip: '198.51.100.7' },
          { ...base, occurredAt: next() },
        ),
      )
    }
    const firstDevice = Math.floor(random() * DEVICES.length)
    login(firstDevice)
    if (chance(0.4)) login(firstDevice + 1) // a second, new device
    const orders = Math.floor(random() * 4)
    for (let o = 0; o < orders; o++) {
      const orderId = `ord_${run}_${i}_${o}`
      const total = Math.round((5 + random() * 200) * 100) / 100
      event(
        createCustomEvent(
          'order.placed',
          { orderId, userId, total, currency: 'EUR', items: 1 + Math.floor(random() * 5) },
          { ...base, occurredAt: next() },
        ),
      )
      if (chance(0.7))
        event(
          createCustomEvent(
            'order.shipped',
            { orderId, carrier: pick(['dhl', 'ups', 'laposte']) },
            { ...base, occurredAt: next() },
          ),
        )
    }
    if (orders === 0 && chance(0.5)) {
      event(
        createCustomEvent(
          'cart.abandoned',
          { userId, items: 1 + Math.floor(random() * 3) },
          { ...base, occurredAt: next() },
        ),
      )
    }
    // Every third user forgot their password: the monolith asks for the reset email, then the change lands
    // (auth revokes the sessions that existed before it).
    if (i % 3 === 0) {
      event(
        createEvent(
          'notification.requested',
          {
            recipient: { userId, email, locale, timezone },
            template: DEMO_TEMPLATE,
            channels: ['email'],
            data: {
              name: first,
              resetUrl: `https://app.example.com/reset/${run}-${i}`,
              expiresInMinutes: 30,
            },
          },
          { ...base, occurredAt: next() },
        ),
      )
      event(
        createEvent('user.password.changed', { userId, reason: 'reset' }, { ...base, occurredAt: next() }),
      )
    }
    if (chance(0.05))
      event(
        createEvent(
          'user.deleted',
          { userId, reason: 'asked to be forgotten' },
          { ...base, occurredAt: next() },
        ),
      )
  }
  return steps
}
