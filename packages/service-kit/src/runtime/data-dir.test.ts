import { afterAll, describe, expect, it } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRedisConnection } from '@flotilla/streams'
import { cleanupStream, TEST_REDIS_URL, uniqueStreamName } from '@flotilla/streams/testing'
import { TelemetryConfigSchema } from '@flotilla/telemetry'
import { createClient } from '@libsql/client'
import { Type } from '@sinclair/typebox'
import { createServiceApp } from '../app/service-app.ts'
import { baseConfig } from '../config/base.ts'
import type { Env } from '../config/load-config.ts'
import { loadConfig } from '../config/load-config.ts'
import { defineService } from './declaration.ts'
import { startService } from './runner.ts'

const REDIS_URL = TEST_REDIS_URL
const root = mkdtempSync(join(tmpdir(), 'runner-data-dir-'))
const stream = uniqueStreamName('runner-data-dir')
afterAll(async () => {
  const redis = createRedisConnection(REDIS_URL, 'command')
  await cleanupStream(redis, stream)
  redis.disconnect()
  rmSync(root, { recursive: true, force: true })
})

const Schema = Type.Composite([baseConfig({ port: 3003 }), TelemetryConfigSchema])

// A store opener like audit's: a libSQL file straight under DATA_DIR. libSQL cannot create the folder: opening
// a file in a folder that does not exist fails with SQLite error 14 (SQLITE_CANTOPEN).
const declaration = defineService({
  name: 'audit',
  version: '0.0.0',
  config: (env: Env) => loadConfig(Schema, env),
  build: async ({ config }) => {
    const db = createClient({ url: `file:${join(config.DATA_DIR, 'store.db')}` })
    await db.execute('create table if not exists t (x integer)')
    return { db }
  },
  app: (_deps, http) => createServiceApp(http),
  subscription: () => ({ everyEvent: { handle: () => {} } }),
  close: ({ db }) => [['db', () => db.close()]],
})

describe('DATA_DIR', () => {
  it('is created by the runner before the service opens its stores', async () => {
    const dataDir = join(root, 'not', 'there', 'yet')
    expect(existsSync(dataDir)).toBe(false)
    const running = await startService(declaration, {
      env: { REDIS_URL, EVENTS_STREAM: stream, LOG_LEVEL: 'silent', DATA_DIR: dataDir },
      port: false,
      telemetry: false,
      consume: false,
    })
    try {
      expect(existsSync(join(dataDir, 'store.db'))).toBe(true)
    } finally {
      await running.close()
    }
  })
})
