/** @flotilla/service-kit — what every Flotilla app is built on: config, logs, errors, the base app, auth, metrics, client. */

export type {
  AccessTokenKeyResolver,
  AccessTokenKeySource,
  AccessTokenVerifierOptions,
  AttackToken,
  AttackTokenOptions,
} from './access-token/index.ts'
export {
  ACCESS_TOKEN_ALGORITHMS,
  ACCESS_TOKEN_TYPE,
  buildAttackTokens,
  createAccessTokenVerifier,
  KID_PATTERN,
  REQUIRED_ACCESS_TOKEN_CLAIMS,
} from './access-token/index.ts'
export { bodyLimit } from './app/body-limit.ts'
export type { ReadinessCheck } from './app/probes.ts'
export { CheckResult, HealthResponse, ReadyResponse, runChecks } from './app/probes.ts'
export type { DeadLetterService, ServiceApp, ServiceAppOptions } from './app/service-app.ts'
export { createServiceApp, DEFAULT_BODY_LIMIT_BYTES } from './app/service-app.ts'
export type { CloseStep, ShutdownHandle, ShutdownOptions } from './app/shutdown.ts'
export { closeAll, onShutdown } from './app/shutdown.ts'
export type { SwaggerOptions } from './app/swagger.ts'
export { BEARER_SECURITY, SWAGGER_ASSETS_PATH } from './app/swagger.ts'
export { bearerToken, peekTokenType } from './auth/bearer.ts'
export type { CallerAuthOptions, ServiceAuthOptions } from './auth/plugins.ts'
export { callerAuth, resolveCaller, serviceAuth } from './auth/plugins.ts'
export { TENANT_REQUIRED, tenantScope } from './auth/tenant-scope.ts'
export type {
  AccessTokenVerifier,
  Caller,
  ServiceCaller,
  ServiceVerifier,
  UserCaller,
  UserPrincipal,
} from './auth/types.ts'
export type { BaseConfig, BaseConfigOptions } from './config/base.ts'
export { BaseConfigSchema, baseConfig, DEV_SERVICE_TOKEN_SECRET } from './config/base.ts'
export type { ConfigProblem } from './config/config-error.ts'
export { ConfigError } from './config/config-error.ts'
export type { CheckContext, FieldCheck } from './config/fields.ts'
export { devDefault, requiredInProduction, secretString, withCheck } from './config/fields.ts'
export type { Env } from './config/load-config.ts'
export { loadConfig, loadConfigOrExit } from './config/load-config.ts'
export type { DeadLetterRoutesOptions } from './dead-letters/routes.ts'
export { DeadLetterPageSchema, DeadLetterSchema, deadLetterRoutes } from './dead-letters/routes.ts'
export type { AppErrorOptions } from './errors/app-error.ts'
export {
  AppError,
  badRequest,
  conflict,
  dependencyUnavailable,
  ErrorBody,
  forbidden,
  notFound,
  payloadTooLarge,
  tooManyRequests,
  unauthorized,
  unsupportedMediaType,
} from './errors/app-error.ts'
export type { DocumentedErrorCode, ErrorCodes, ErrorDocProblems } from './errors/error-codes.ts'
export {
  COMMON_ERROR_CODES,
  defineErrorCodes,
  documentedErrorCodes,
  ERRORS_HEADING,
  errorDocProblems,
} from './errors/error-codes.ts'
export type { FieldProblem, RenderedError } from './errors/render.ts'
export { renderError } from './errors/render.ts'
export type {
  BreakerOptions,
  ServiceClient,
  ServiceClientOptions,
  ServiceRequestInit,
  TokenSigner,
} from './http-client/client.ts'
export { createServiceClient, parseRetryAfter, UpstreamError } from './http-client/client.ts'
export { serviceUrl } from './http-client/service-url.ts'
export type { RetryWhileBusyOptions } from './libsql/busy.ts'
export { isBusyError, retryWhileBusy } from './libsql/busy.ts'
export { localPathOf } from './libsql/local-path.ts'
export type { MigrateOptions, Migration } from './libsql/migrate.ts'
export { migrate } from './libsql/migrate.ts'
export type { QueueOptions } from './libsql/queue.ts'
export { Mutex, mutexFor, queueClient } from './libsql/queue.ts'
export type { Logger, LoggerOptions, LogLevel } from './logging/logger.ts'
export { createLogger, LOG_LEVELS, REDACT_PATHS } from './logging/logger.ts'
export type { RequestContext } from './logging/request-context.ts'
export { CORRELATION_ID_HEADER, REQUEST_ID_HEADER, requestContextOf } from './logging/request-context.ts'
export { requestContext } from './logging/request-context-plugin.ts'
export type { GroupSnapshot, Metrics, ObserveRequest } from './metrics/metrics.ts'
export { createMetrics } from './metrics/metrics.ts'
export { Counter, Gauge, Histogram, Registry } from './metrics/prom.ts'
export type { CursorCodec, CursorCodecOptions } from './pagination/cursor.ts'
export {
  CursorPage,
  CursorQuery,
  createCursorCodec,
  INVALID_CURSOR,
  MAX_CURSOR_LENGTH,
} from './pagination/cursor.ts'
export type { PostgresConnection, PostgresConnectionOptions } from './postgres/connection.ts'
export {
  databaseName,
  isPostgresUrl,
  migratedUnless,
  openPostgres,
  postgresText,
  whenUsable,
} from './postgres/connection.ts'
export type { CopyOptions, TableCopy } from './postgres/copy.ts'
export { copyLibsqlToPostgres, copyStoreToPostgres } from './postgres/copy.ts'
export type { PostgresMigrateOptions } from './postgres/migrate.ts'
export { migratePostgres, postgresDdlOf } from './postgres/migrate.ts'
export type {
  RevocationList,
  RevocationListOptions,
  RevocationReason,
  RevocationSubject,
} from './revocation/list.ts'
export { createRevocationList } from './revocation/list.ts'
export type { RevocationKind, RevocationMessage, RevocationNames } from './revocation/names.ts'
export { parseRevocationMessage, revocationNames } from './revocation/names.ts'
export type { RevocationWriter, RevocationWriterOptions } from './revocation/writer.ts'
export { createRevocationWriter, RETIRED_KEY_RETENTION_MS } from './revocation/writer.ts'
export type {
  ConsumerTuning,
  EventSubscription,
  FeatureFlag,
  FeatureValues,
  HandlerMap,
  HandlerMapObserver,
  HttpRuntime,
  JobsDeclaration,
  ServiceConfig,
  ServiceContext,
  ServiceDeclaration,
  Subscription,
} from './runtime/declaration.ts'
export { defineService, handlerOfMap, subscribedTypes, UNSUPPORTED_VERSION } from './runtime/declaration.ts'
export { featureVariable, readFeatures } from './runtime/features.ts'
export type { HttpRuntimeOptions } from './runtime/http-runtime.ts'
export { createHttpRuntime } from './runtime/http-runtime.ts'
export type { RunningService, StartOptions } from './runtime/runner.ts'
export { runService, startService } from './runtime/runner.ts'
export type { Job, JobOutcome, Scheduler, SchedulerOptions } from './runtime/scheduler.ts'
export { createScheduler } from './runtime/scheduler.ts'
