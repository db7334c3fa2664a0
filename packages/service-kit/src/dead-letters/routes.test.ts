import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createServiceTokenSigner, createServiceTokenVerifier, parseKeyRing } from '@flotilla/contracts'
import { inputsNotAnsweringAsync } from '@flotilla/contracts/testing'
import { createConsumer, createDeadLetters, readGroupStats } from '@flotilla/streams'
import { cleanupStream, TEST_REDIS_URL, uniqueStreamName, waitFor } from '@flotilla/streams/testing'
import { Redis } from 'ioredis'
import { parseExposition } from '../metrics/exposition.ts'
import { createTestServiceApp, req } from '../test-fixtures.ts'

const REDIS_URL = TEST_REDIS_URL
const ring = parseKeyRing('dead-letter-routes-test-secret-0123456789')
const verifier = createServiceTokenVerifier(ring, { audience: 'test' })
const signer = createServiceTokenSigner(ring, 'ops')
const stream = uniqueStreamName('kit-dlq')
const group = 'audit'
const redis = new Redis(REDIS_URL)

const deadLetters = createDeadLetters({ redis, stream, group })
// The kit's base app mounts the inspector (deadLetterRoutes) when it is given the service's dead letters.
const { app, metrics } = createTestServiceApp({ deadLetters: { group, deadLetters, verifier } })
metrics.trackGroups(() => readGroupStats({ redis, stream }))

let token = ''
const call = async (method: string, path: string, auth = true) => {
  const response = await app.handle(
    req(path, { method, ...(auth ? { headers: { authorization: `Bearer ${token}` } } : {}) }),
  )
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : undefined }
}

interface Page {
  group: string
  items: { id: string; type: string; event: string; deliveries: number; error: { code: string } }[]
  nextCursor: string | null
  total: number
}

beforeAll(async () => {
  token = await signer.sign({ audience: 'test', ttlSeconds: 300 })
  // Two entries that break the contract: dead-lettered at once, without reaching the handler.
  await redis.xadd(stream, '*', 'type', 'user.registered', 'event', '{not json')
  await redis.xadd(
    stream,
    '*',
    'type',
    'user.registered',
    'event',
    JSON.stringify({ id: 'x', type: 'user.registered' }),
  )
  const consumer = createConsumer({
    redisUrl: REDIS_URL,
    stream,
    group,
    blockMs: 100,
    handler: { handle: () => {} },
    hooks: metrics.streamHooks(group),
  })
  await consumer.start()
  await waitFor(async () => (await deadLetters.count()) === 2, { message: 'two dead letters' })
  await consumer.close()
})

afterAll(async () => {
  await cleanupStream(redis, stream)
  redis.disconnect()
})

describe('deadLetterRoutes', () => {
  it('refuses calls without a service token', async () => {
    const { status, body } = await call('GET', '/v1/dead-letters', false)
    expect(status).toBe(401)
    expect(body.error.code).toBe('INVALID_TOKEN')
  })

  it('lists dead letters newest first, page by page', async () => {
    const first = (await call('GET', '/v1/dead-letters?limit=1')).body as Page
    expect(first).toMatchObject({ group, total: 2 })
    expect(first.items).toHaveLength(1)
    expect(first.items[0]!.error.code).toBe('CONTRACT_VIOLATION')
    expect(first.nextCursor).toBe(first.items[0]!.id)
    const second = (await call('GET', `/v1/dead-letters?group=${group}&limit=1&cursor=${first.nextCursor}`))
      .body as Page
    expect(second.items).toHaveLength(1)
    expect(second.items[0]!.event).toBe('{not json')
    expect(second.nextCursor).toBeNull()
  })

  it('gets one dead letter, and answers 404 for an unknown id or group', async () => {
    const { items } = (await call('GET', '/v1/dead-letters')).body as Page
    const { status, body } = await call('GET', `/v1/dead-letters/${items[0]!.id}`)
    expect(status).toBe(200)
    expect(body).toEqual(items[0])
    expect((await call('GET', '/v1/dead-letters/1-1')).status).toBe(404)
    expect((await call('GET', '/v1/dead-letters?group=nobody')).body.error.code).toBe('UNKNOWN_GROUP')
  })

  it('answers 400 INVALID_CURSOR, never 500, for a cursor that is not a stream entry id', async () => {
    const answer = async (cursor: string) => {
      const { status, body } = await call('GET', `/v1/dead-letters?cursor=${encodeURIComponent(cursor)}`)
      return `${status} ${body?.error?.code}`
    }
    expect(
      await inputsNotAnsweringAsync('400 INVALID_CURSOR', answer, [
        '0-0',
        '99999999999999999999-0',
        '18446744073709551616-0',
        '0-18446744073709551616',
        '01-0',
        'abc',
        '1-',
        '',
        '-',
        '+',
      ]),
    ).toEqual([])
  })

  it('takes the largest possible cursor as a cursor (everything is older)', async () => {
    const { status, body } = await call(
      'GET',
      '/v1/dead-letters?cursor=18446744073709551615-18446744073709551615',
    )
    expect(status).toBe(200)
    expect((body as Page).items.length).toBe((body as Page).total)
  })

  it('answers 400 INVALID_ID, never 500, for an id that is not a stream entry id, on every id route', async () => {
    for (const id of ['abc', '0-0', '99999999999999999999-0', '1-18446744073709551616']) {
      for (const [method, path] of [
        ['GET', `/v1/dead-letters/${id}`],
        ['POST', `/v1/dead-letters/${id}/replay`],
        ['DELETE', `/v1/dead-letters/${id}`],
      ] as const) {
        const { status, body } = await call(method, path)
        expect({ method, path, status, code: body?.error?.code }).toEqual({
          method,
          path,
          status: 400,
          code: 'INVALID_ID',
        })
      }
    }
    expect((await call('GET', '/v1/dead-letters/18446744073709551615-18446744073709551615')).status).toBe(404)
  })

  it('counts the dead letters in /metrics, from the hooks and from the group stats', async () => {
    const { samples } = parseExposition(await (await app.handle(req('/metrics'))).text())
    const moved = samples
      .filter((s) => s.name === 'stream_events_dead_lettered_total' && s.labels.group === group)
      .reduce((sum, s) => sum + s.value, 0)
    expect(moved).toBe(2)
    expect(samples.find((s) => s.name === 'stream_dead_letters' && s.labels.group === group)?.value).toBe(2)
    expect(samples.find((s) => s.name === 'stream_group_pending' && s.labels.group === group)?.value).toBe(0)
  })

  it('replays a dead letter onto the main stream for its group and removes it', async () => {
    const { items } = (await call('GET', '/v1/dead-letters')).body as Page
    const target = items[0]!
    const { status, body } = await call('POST', `/v1/dead-letters/${target.id}/replay`)
    expect(status).toBe(200)
    expect(body).toMatchObject({ replayed: target.id, group })
    const [entry] = await redis.xrange(stream, body.streamId, body.streamId)
    expect(entry?.[1]).toEqual(expect.arrayContaining(['replayFor', group, 'event', target.event]))
    expect((await call('GET', `/v1/dead-letters/${target.id}`)).status).toBe(404)
    expect((await call('POST', `/v1/dead-letters/${target.id}/replay`)).status).toBe(404)
  })

  it('deletes a dead letter, then answers 404 for it', async () => {
    const { items, total } = (await call('GET', '/v1/dead-letters')).body as Page
    const target = items[0]!
    expect((await call('DELETE', `/v1/dead-letters/${target.id}`)).status).toBe(204)
    expect((await call('DELETE', `/v1/dead-letters/${target.id}`)).status).toBe(404)
    expect(((await call('GET', '/v1/dead-letters')).body as Page).total).toBe(total - 1)
  })

  it('documents the routes in the OpenAPI document with the bearer scheme', async () => {
    const document = (await (await app.handle(req('/swagger/json'))).json()) as {
      paths: Record<string, Record<string, { security?: unknown }>>
    }
    expect(document.paths['/v1/dead-letters']?.get?.security).toEqual([{ bearer: [] }])
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/v1/dead-letters/{id}', '/v1/dead-letters/{id}/replay']),
    )
  })
})
