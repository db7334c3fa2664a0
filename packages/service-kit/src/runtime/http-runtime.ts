/** The HTTP side the runner hands a declaration's `app`; tests build the same with their own Redis and stream. */
import { createServiceTokenVerifier, type KeyRing, type ServiceName } from '@flotilla/contracts'
import type { RedisClient } from '@flotilla/streams'
import { createDeadLetters } from '@flotilla/streams'
import type { ReadinessCheck } from '../app/probes.ts'
import type { ServiceVerifier } from '../auth/types.ts'
import type { Logger } from '../logging/logger.ts'
import { createLogger } from '../logging/logger.ts'
import type { Metrics } from '../metrics/metrics.ts'
import { createMetrics } from '../metrics/metrics.ts'
import type { HttpRuntime } from './declaration.ts'

export interface HttpRuntimeOptions {
  readonly name: ServiceName
  readonly serviceKeys: KeyRing
  /** The command connection the dead-letter routes use. */
  readonly redis: RedisClient
  readonly stream: string
  /** @defaultValue '0.1.0' */
  readonly version?: string
  /** @defaultValue a silent logger */
  readonly logger?: Logger
  /** @defaultValue a registry of its own */
  readonly metrics?: Metrics
  readonly readiness?: Readonly<Record<string, ReadinessCheck>>
  readonly features?: Readonly<Record<string, boolean>>
  /** @defaultValue service tokens whose audience is `name` */
  readonly serviceVerifier?: ServiceVerifier
}

/** Builds the `HttpRuntime` of one service: its logger, metrics, readiness, service tokens and dead letters. */
export const createHttpRuntime = (o: HttpRuntimeOptions): HttpRuntime => {
  const serviceVerifier = o.serviceVerifier ?? createServiceTokenVerifier(o.serviceKeys, { audience: o.name })
  return {
    name: o.name,
    version: o.version ?? '0.1.0',
    logger: o.logger ?? createLogger({ service: o.name, level: 'silent' }),
    metrics: o.metrics ?? createMetrics(o.name),
    readiness: o.readiness ?? {},
    features: o.features ?? {},
    serviceKeys: o.serviceKeys,
    serviceVerifier,
    deadLetters: {
      group: o.name,
      deadLetters: createDeadLetters({ redis: o.redis, stream: o.stream, group: o.name }),
      verifier: serviceVerifier,
    },
  }
}
