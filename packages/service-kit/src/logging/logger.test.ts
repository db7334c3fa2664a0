import { describe, expect, it } from 'bun:test'
import { Writable } from 'node:stream'
import { createLogger } from './logger.ts'

const capture = () => {
  const lines: Record<string, unknown>[] = []
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  return { lines, destination }
}

describe('createLogger', () => {
  it('writes JSON lines that carry the service name and a string level', () => {
    const { lines, destination } = capture()
    createLogger({ service: 'audit', destination }).info({ n: 1 }, 'hello')
    expect(lines[0]).toMatchObject({ service: 'audit', level: 'info', msg: 'hello', n: 1 })
  })

  it('redacts authorization headers, tokens, secrets and passwords at the top level and in the usual containers', () => {
    const { lines, destination } = capture()
    createLogger({ service: 'auth', destination }).info(
      {
        password: 'hunter2',
        req: { headers: { authorization: 'Bearer abc', 'x-request-id': 'r1' } },
        body: { refreshToken: 'rt' },
        payload: { secret: 's' },
        headers: { 'x-api-key': 'k' },
        token: 't',
      },
      'login',
    )
    const text = JSON.stringify(lines[0])
    for (const leaked of ['hunter2', 'Bearer abc', '"rt"', '"s"', '"t"', '"k"'])
      expect(text).not.toContain(leaked)
    expect(lines[0]).toMatchObject({
      req: { headers: { 'x-request-id': 'r1', authorization: '[redacted]' } },
    })
  })

  it('drops lines below the configured level', () => {
    const { lines, destination } = capture()
    const logger = createLogger({ service: 'x', level: 'warn', destination })
    logger.info('quiet')
    logger.warn('loud')
    expect(lines.map((l) => l.msg)).toEqual(['loud'])
  })
})
