import { describe, expect, it } from 'bun:test'
import { createLogger } from '@flotilla/service-kit'
import type { TokenPair } from './sessions/model.ts'
import { createTestApp } from './testing.ts'

describe('logs', () => {
  it('never contain a token or a secret, even at debug level and on reuse', async () => {
    const lines: string[] = []
    const logger = createLogger({
      service: 'auth',
      level: 'debug',
      destination: { write: (line: string) => lines.push(line) },
    })
    const t = await createTestApp({}, { logger })
    try {
      const service = await t.serviceToken()
      const created = (await (
        await t.request('POST', '/v1/sessions', { token: service, body: { userId: 'u1' } })
      ).json()) as TokenPair
      const next = (await (
        await t.request('POST', '/v1/sessions/refresh', { body: { refreshToken: created.refreshToken } })
      ).json()) as TokenPair
      await t.request('POST', '/v1/tokens/introspect', { token: service, body: { token: next.accessToken } })
      await t.request('POST', '/v1/sessions/refresh', { body: { refreshToken: next.refreshToken } })
      const reuse = await t.request('POST', '/v1/sessions/refresh', {
        body: { refreshToken: created.refreshToken },
      })
      expect(reuse.status).toBe(401)
      const log = lines.join('')
      expect(log).toContain('refresh token reused') // the warning is there, without the token
      for (const secret of [
        service,
        created.accessToken,
        created.refreshToken,
        created.refreshToken.split('.')[1] ?? '',
        next.accessToken,
        next.refreshToken,
        t.core.settings.keyEncryptionSecret,
      ]) {
        expect(log).not.toContain(secret)
      }
    } finally {
      await t.close()
    }
  })
})
