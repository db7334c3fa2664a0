/** The one logger factory: pino JSON lines tagged with the service, secrets redacted. */
import pino, { type DestinationStream, type Logger } from 'pino'

export type { Logger } from 'pino'

/** Log levels accepted by `LOG_LEVEL`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

// Keys that may hold credentials, at the top level and up to two levels down (pino's redaction
// needs explicit paths; an intermediate wildcard is slower, so depth stays bounded).
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'secret',
  'clientSecret',
  'password',
  'newPassword',
  'currentPassword',
  'apiKey',
  'privateKey',
  'x-api-key',
  'SERVICE_TOKEN_SECRET',
] as const

const bracket = (key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `["${key}"]`)

/** Every path pino redacts: each secret key at depth 0, 1 and 2. */
export const REDACT_PATHS: readonly string[] = SECRET_KEYS.flatMap((key) => [
  bracket(key).replace(/^\./, ''),
  `*${bracket(key)}`,
  `*.*${bracket(key)}`,
])

export interface LoggerOptions {
  /** Service name, written on every line as `service`. */
  readonly service: string
  /** @defaultValue 'info' */
  readonly level?: LogLevel
  /** Where lines go (tests pass a stream to read them). @defaultValue stdout */
  readonly destination?: DestinationStream
}

/**
 * Creates the service logger: JSON lines with `service`, ISO timestamps, errors serialised under `err`,
 * and authorization headers, tokens, secrets and passwords replaced by `[redacted]`.
 * @example const logger = createLogger({ service: 'auth', level: config.LOG_LEVEL })
 */
export const createLogger = ({ service, level = 'info', destination }: LoggerOptions): Logger => {
  const options: pino.LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
  }
  return destination ? pino(options, destination) : pino(options)
}
