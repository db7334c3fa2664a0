/**
 * The dead-letter inspector on every app: stream-id cursors and ids outside what Redis accepts (`0-0`, parts past
 * 2^64-1, other spellings) get a 400 in the error shape with a code, never a 500 from Redis's refusal.
 */
import { describe, expect, it } from 'bun:test'
import { serviceToken, type Target, useAllTargets } from './lib/targets.ts'

const targetNamed = useAllTargets()

const BAD_IDS = [
  '0-0',
  '99999999999999999999-0',
  '18446744073709551616-0',
  '0-18446744073709551616',
  '1-99999999999999999999999',
  '00000000000000000000001-0',
]

const call = async (t: Target, method: string, path: string) => {
  const response = await t.handle(
    new Request(`http://localhost${path}`, {
      method,
      headers: { authorization: `Bearer ${await serviceToken(t)}` },
    }),
  )
  const body = (await response.json().catch(() => undefined)) as
    | { error?: { code?: unknown; message?: unknown } }
    | undefined
  return {
    status: response.status,
    code: body?.error?.code,
    hasMessage: typeof body?.error?.message === 'string',
  }
}

describe.each(['auth', 'notifications', 'audit', 'analytics'] as const)('%s', (name) => {
  const target = () => targetNamed(name)

  it('answers 400 INVALID_CURSOR to a dead-letter cursor that is not a stream entry id', async () => {
    const wrong: string[] = []
    for (const cursor of BAD_IDS) {
      const got = await call(target(), 'GET', `/v1/dead-letters?cursor=${cursor}`)
      if (got.status !== 400 || got.code !== 'INVALID_CURSOR' || !got.hasMessage)
        wrong.push(`cursor=${cursor}: ${got.status} ${String(got.code)}`)
    }
    expect(wrong).toEqual([])
  })

  it('answers 400 INVALID_ID to such an id on get, replay and delete', async () => {
    const wrong: string[] = []
    for (const id of BAD_IDS) {
      for (const [method, path] of [
        ['GET', `/v1/dead-letters/${id}`],
        ['POST', `/v1/dead-letters/${id}/replay`],
        ['DELETE', `/v1/dead-letters/${id}`],
      ] as const) {
        const got = await call(target(), method, path)
        if (got.status !== 400 || got.code !== 'INVALID_ID') wrong.push(`${method} ${path}: ${got.status}`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('still pages with a valid cursor and answers 404 for a valid id it does not hold (control)', async () => {
    expect((await call(target(), 'GET', '/v1/dead-letters?cursor=1-0')).status).toBe(200)
    expect((await call(target(), 'GET', '/v1/dead-letters/1-1')).status).toBe(404)
  })
})
