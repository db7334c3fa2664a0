/** @flotilla/analytics — curated exports for tests, tooling and typed clients. */

export type { AnalyticsApp, AppDeps } from './app.ts'
export { createApp } from './app.ts'
export type { AnalyticsConfig } from './config.ts'
export { AnalyticsConfigSchema, loadAnalyticsConfig } from './config.ts'
export type { Database } from './db/client.ts'
export { openDatabase } from './db/client.ts'
export type { AnalyticsDomain, DomainOptions } from './deps.ts'
export { analyticsJobs, buildDomain } from './deps.ts'
export type { AnalyticsOverrides } from './service.ts'
export { analyticsService, VERSION } from './service.ts'
export type { Interval, Weekday } from './time/buckets.ts'
export { bucketBoundaries, INTERVALS, WEEKDAYS } from './time/buckets.ts'
