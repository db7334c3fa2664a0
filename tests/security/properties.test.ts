/**
 * Property-based tests (fast-check): the contract decoder and the apps' query parsers turn any input into a
 * typed value or a clear error — never a throw that escapes, never a 5xx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import {
  parseInterval,
  parseRange,
  parseTimeZone,
  parseTypeFilter,
  parseWeekStart,
} from '@flotilla/analytics/testing'
import { eventCursor, toFilter } from '@flotilla/audit/testing'
import { ContractError, createEvent, decodeEntry } from '@flotilla/contracts'
import { AppError } from '@flotilla/service-kit'
import fc from 'fast-check'
import { analyticsTarget, auditTarget, serviceToken, type Target, userToken } from './lib/targets.ts'

const RUNS = 300

/** A decode result is either a typed event or a ContractError listing at least one problem. */
const wellFormed = (result: ReturnType<typeof decodeEntry>): boolean =>
  result.ok
    ? typeof result.event.id === 'string' && typeof result.event.type === 'string'
    : result.error instanceof ContractError && result.error.problems.length > 0

const validEvent = () =>
  createEvent('user.registered', { userId: 'u_1', email: 'someone@example.com' }, { source: 'monolith' })

describe('decodeEntry', () => {
  it('answers any field list with a typed event or a ContractError', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }), { maxLength: 8 }), (fields) => {
        expect(wellFormed(decodeEntry(fields))).toBe(true)
      }),
      { numRuns: RUNS },
    )
  })

  it('answers any JSON value in the event field with a typed event or a ContractError', () => {
    fc.assert(
      fc.property(fc.string(), fc.jsonValue(), (type, value) => {
        expect(wellFormed(decodeEntry(['type', type, 'event', JSON.stringify(value) ?? 'null']))).toBe(true)
      }),
      { numRuns: RUNS },
    )
  })

  it('answers a valid event with any one field replaced by any JSON value', () => {
    const event = validEvent() as unknown as Record<string, unknown>
    const keys = [...Object.keys(event), '__proto__', 'constructor', 'extra']
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.jsonValue(), (key, value) => {
        const json = JSON.stringify({ ...event, [key]: value }).replace('"extra"', `"${key}"`)
        const result = decodeEntry(['type', 'user.registered', 'event', json])
        expect(wellFormed(result)).toBe(true)
        expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      }),
      { numRuns: RUNS },
    )
  })

  it('answers any payload for a known type, including hostile strings, without throwing', () => {
    const hostile = fc.constantFrom(
      'a@example.com\r\nBcc: evil@example.com',
      'a\u0000b@example.com',
      '\uD800@example.com',
      "' OR 1=1--",
      '{"$ne": null}',
    )
    fc.assert(
      fc.property(fc.oneof(hostile, fc.string()), fc.oneof(hostile, fc.string()), (userId, email) => {
        const event = { ...validEvent(), payload: { userId, email } }
        expect(wellFormed(decodeEntry(['type', 'user.registered', 'event', JSON.stringify(event)]))).toBe(
          true,
        )
      }),
      { numRuns: RUNS },
    )
  })

  it('refuses CRLF, NUL and lone surrogates in email fields', () => {
    for (const email of [
      'a@example.com\r\nBcc: evil@example.com',
      'a\u0000b@example.com',
      '\uD800@example.com',
    ]) {
      const event = { ...validEvent(), payload: { userId: 'u_1', email } }
      expect(decodeEntry(['type', 'user.registered', 'event', JSON.stringify(event)]).ok).toBe(false)
    }
  })
})

/** Runs a parser: a value, or the expected error class; anything else escapes and fails the property. */
const valueOr = <T>(run: () => T, errorClass: new (...args: never[]) => Error): boolean => {
  try {
    run()
    return true
  } catch (error) {
    if (error instanceof errorClass && (error as AppError).status >= 400 && (error as AppError).status < 500)
      return true
    throw error
  }
}

describe('analytics query parsers', () => {
  const text = fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.constant(''),
    fc.constantFrom('2026-03-01T00:00:00Z', '2026-03-01', 'user.*', '*', 'Europe/Paris', 'monday'),
  )
  it('turn any strings into a value or a 422 AppError', () => {
    fc.assert(
      fc.property(text, text, fc.option(fc.integer()), (a, b, span) => {
        expect(valueOr(() => parseRange(a, b, span ?? undefined), AppError)).toBe(true)
        expect(valueOr(() => parseInterval(a), AppError)).toBe(true)
        expect(valueOr(() => parseTimeZone(a), AppError)).toBe(true)
        expect(valueOr(() => parseWeekStart(a), AppError)).toBe(true)
        expect(valueOr(() => parseTypeFilter(a), AppError)).toBe(true)
      }),
      { numRuns: RUNS },
    )
  })
})

describe('audit query parsers', () => {
  it('turn any query into a store filter or a 4xx AppError', () => {
    const field = fc.option(fc.string({ unit: 'binary' }), { nil: undefined })
    fc.assert(
      fc.property(
        fc.record({
          from: field,
          to: field,
          type: field,
          actorId: field,
          subjectId: field,
          correlationId: field,
        }),
        fc.option(fc.string(), { nil: undefined }),
        (query, tenantId) => {
          const defined = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined))
          expect(valueOr(() => toFilter(defined as Parameters<typeof toFilter>[0], tenantId), AppError)).toBe(
            true,
          )
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('decodes any cursor to a position or a 400 INVALID_CURSOR, and its own cursors back exactly', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (cursor) => {
        let key: ReturnType<typeof eventCursor.decode> | AppError
        try {
          key = eventCursor.decode(cursor)
        } catch (error) {
          key = error as AppError
        }
        expect(
          key instanceof AppError
            ? key.status === 400 && key.code === 'INVALID_CURSOR'
            : Number.isSafeInteger(key.occurredMs) && typeof key.eventId === 'string',
        ).toBe(true)
      }),
      { numRuns: RUNS },
    )
    fc.assert(
      fc.property(
        fc.integer({ min: 0 }),
        fc.string({ minLength: 1, maxLength: 200 }),
        (occurredMs, eventId) => {
          expect(eventCursor.decode(eventCursor.encode({ occurredMs, eventId }))).toEqual({
            occurredMs,
            eventId,
          })
        },
      ),
      { numRuns: RUNS },
    )
  })
})

describe('search and stat routes over HTTP', () => {
  let audit: Target
  let analytics: Target
  beforeAll(async () => {
    audit = await auditTarget()
    analytics = await analyticsTarget()
  }, 30_000)
  afterAll(async () => {
    await audit?.close()
    await analytics?.close()
  })

  const routes: readonly [() => Target, string, readonly string[]][] = [
    [
      () => audit,
      '/v1/audit/events',
      [
        'tenantId',
        'actorId',
        'actorType',
        'type',
        'subjectId',
        'correlationId',
        'from',
        'to',
        'cursor',
        'limit',
      ],
    ],
    [() => audit, '/v1/audit/stats', ['groupBy', 'tenantId', 'from', 'to']],
    [
      () => analytics,
      '/v1/stats/timeseries',
      ['type', 'tenantId', 'source', 'from', 'to', 'interval', 'tz', 'weekStart'],
    ],
    [() => analytics, '/v1/stats/summary', ['tenantId', 'from', 'to', 'limit']],
    [() => analytics, '/v1/stats/uniques', ['type', 'tenantId', 'from', 'to', 'interval', 'tz', 'weekStart']],
    [
      () => analytics,
      '/v1/stats/percentiles',
      ['type', 'tenantId', 'from', 'to', 'interval', 'tz', 'weekStart'],
    ],
  ]

  it('answer any query string with 2xx or a 4xx carrying an error code, never 5xx', async () => {
    const failures: string[] = []
    for (const [target, path, names] of routes) {
      const t = target()
      const tokens = [await serviceToken(t), await userToken(t, { tenantId: 't1' })]
      await fc.assert(
        fc.asyncProperty(
          fc.dictionary(
            fc.constantFrom(...names, '__proto__', 'constructor', 'x[$ne]'),
            fc.string({ unit: 'binary' }),
            { maxKeys: 6 },
          ),
          fc.constantFrom(0, 1),
          async (query, which) => {
            const search = new URLSearchParams(Object.entries(query)).toString()
            const response = await t.handle(
              new Request(`http://localhost${path}?${search}`, {
                headers: { authorization: `Bearer ${tokens[which]}` },
              }),
            )
            const body = (await response.json().catch(() => null)) as { error?: { code?: string } } | null
            const ok =
              response.status < 300 || (response.status < 500 && typeof body?.error?.code === 'string')
            if (!ok) failures.push(`${path}?${search} → ${response.status}`)
            return ok
          },
        ),
        { numRuns: 150 },
      )
    }
    expect(failures).toEqual([])
  }, 60_000)
})
