import { describe, expect, it } from 'bun:test'
import { loadAnalyticsConfig } from './config.ts'

describe('analytics config: the database', () => {
  it('takes a postgres:// ANALYTICS_DB_URL as it is, and defaults to a libSQL file under DATA_DIR', () => {
    const url = 'postgres://analytics:secret@db.internal:5432/flotilla?search_path=analytics'
    expect(loadAnalyticsConfig({ ANALYTICS_DB_URL: url }).dbUrl).toBe(url)
    expect(loadAnalyticsConfig({ DATA_DIR: '/data' }).dbUrl).toBe('file:/data/analytics.db')
  })

  it('refuses a libSQL auth token beside a PostgreSQL URL, and any other scheme, naming the variable', () => {
    expect(() =>
      loadAnalyticsConfig({ ANALYTICS_DB_URL: 'postgresql://db/x', ANALYTICS_DB_AUTH_TOKEN: 'tok' }),
    ).toThrow(/ANALYTICS_DB_AUTH_TOKEN/)
    expect(() => loadAnalyticsConfig({ ANALYTICS_DB_URL: 'mysql://db/x' })).toThrow(/ANALYTICS_DB_URL/)
  })
})
