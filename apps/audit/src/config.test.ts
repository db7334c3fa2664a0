import { describe, expect, it } from 'bun:test'
import { loadAuditConfig } from './config.ts'

describe('audit config', () => {
  it('defaults to a libSQL file under DATA_DIR, port 3003 and no pruning', () => {
    const s = loadAuditConfig({ DATA_DIR: '/var/data/' })
    expect(s.PORT).toBe(3003)
    expect(s.store).toEqual({ kind: 'libsql', url: 'file:/var/data/audit.db' })
    expect(s.retention).toEqual({ defaultDays: 0, overrides: new Map() })
    expect(s.jwksUrl).toBe('http://127.0.0.1:3001/.well-known/jwks.json')
  })

  it('reads the store, retention and JWKS settings', () => {
    const s = loadAuditConfig({
      AUDIT_STORE: 'mongodb',
      MONGODB_URL: 'mongodb://db.internal:27017/audit',
      AUDIT_RETENTION_DAYS: '30',
      AUDIT_RETENTION_OVERRIDES: 'tenantA:365,tenantB:7',
      AUTH_JWKS_URL: 'http://auth.internal:3001/.well-known/jwks.json',
    })
    expect(s.store).toEqual({ kind: 'mongodb', url: 'mongodb://db.internal:27017/audit' })
    expect(s.retention.defaultDays).toBe(30)
    expect([...s.retention.overrides]).toEqual([
      ['tenantA', 365],
      ['tenantB', 7],
    ])
    expect(s.jwksUrl).toBe('http://auth.internal:3001/.well-known/jwks.json')
  })

  it('picks PostgreSQL from a postgres:// or postgresql:// AUDIT_DB_URL, with or without AUDIT_STORE', () => {
    const url = 'postgres://audit:secret@db.internal:5432/flotilla?search_path=audit'
    expect(loadAuditConfig({ AUDIT_DB_URL: url }).store).toEqual({ kind: 'postgres', url })
    expect(loadAuditConfig({ AUDIT_STORE: 'postgres', AUDIT_DB_URL: url }).store).toEqual({
      kind: 'postgres',
      url,
    })
    const long = 'postgresql://db.internal/flotilla'
    expect(loadAuditConfig({ AUDIT_DB_URL: long }).store).toEqual({ kind: 'postgres', url: long })
    expect(loadAuditConfig({ AUDIT_DB_URL: 'libsql://x.turso.io' }).store.kind).toBe('libsql')
  })

  it('refuses a store and a URL that disagree, naming the variable and never the URL', () => {
    const url = 'postgres://audit:secret@db.internal/flotilla'
    const message = (env: Record<string, string>) => {
      try {
        loadAuditConfig(env)
      } catch (error) {
        return (error as Error).message
      }
      throw new Error('no ConfigError')
    }
    expect(message({ AUDIT_STORE: 'postgres' })).toMatch(
      /AUDIT_DB_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/,
    )
    expect(message({ AUDIT_STORE: 'postgres', AUDIT_DB_URL: 'file:/tmp/a.db' })).toMatch(/AUDIT_DB_URL/)
    const mismatch = message({ AUDIT_STORE: 'libsql', AUDIT_DB_URL: url })
    expect(mismatch).toMatch(/AUDIT_STORE: is libsql but AUDIT_DB_URL is a PostgreSQL URL/)
    expect(mismatch).not.toContain('secret')
    expect(message({ AUDIT_DB_URL: url, AUDIT_DB_AUTH_TOKEN: 't' })).toMatch(
      /AUDIT_DB_AUTH_TOKEN: is for a libSQL server/,
    )
    expect(message({ AUDIT_DB_URL: 'mysql://db/x' })).toMatch(/AUDIT_DB_URL/)
  })

  it('names every problem at once', () => {
    expect(() => loadAuditConfig({ AUDIT_STORE: 'mongodb', AUDIT_RETENTION_OVERRIDES: 'tenantA' })).toThrow(
      /AUDIT_RETENTION_OVERRIDES: retention override "tenantA".*\n.*MONGODB_URL: is required when AUDIT_STORE=mongodb/,
    )
  })

  it('refuses bad values and production without a service token secret', () => {
    expect(() => loadAuditConfig({ AUDIT_STORE: 'sqlite' })).toThrow(/AUDIT_STORE/)
    expect(() => loadAuditConfig({ AUDIT_BATCH_SIZE: '0' })).toThrow(/AUDIT_BATCH_SIZE/)
    expect(() => loadAuditConfig({ AUDIT_RETENTION_DAYS: '1.5' })).toThrow(/AUDIT_RETENTION_DAYS/)
    expect(() => loadAuditConfig({ NODE_ENV: 'production' })).toThrow(/SERVICE_TOKEN_SECRET/)
  })
})
