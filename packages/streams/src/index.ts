/** @flotilla/streams — publisher, consumer-group runner, dead letters, safe trimming over Redis Streams. */

export type { BackoffOptions } from './backoff.ts'
export { backoffCeiling, DEFAULT_BACKOFF, retryDelayFor } from './backoff.ts'
export type { KeyedCommand } from './cluster.ts'
export { checkRedis, hashSlot, mastersOf, nodeFor, pipelineBySlot } from './cluster.ts'
export type {
  ConnectionLogger,
  ConnectionRole,
  RedisAddress,
  RedisClient,
  RedisTarget,
} from './connection.ts'
export {
  closeConnection,
  createRedisConnection,
  isCluster,
  isRedisUnavailableError,
  offClient,
  onClient,
  RedisAddressError,
  redisNodeUrls,
  whenReady,
} from './connection.ts'
export { createConsumer, defaultConsumerName } from './consumer/consumer.ts'
export type { FallbackBatchHandler, StreamMessage } from './consumer/per-message-fallback.ts'
export { withPerMessageFallback } from './consumer/per-message-fallback.ts'
export type {
  BatchHandler,
  ConnectionFactory,
  Consumer,
  ConsumerMessage,
  ConsumerOptions,
  ConsumerStatus,
  EventHandler,
  Handler,
  StreamHooks,
  StreamLogger,
} from './consumer/types.ts'
export type { DeadLetter, DeadLetterPage, DeadLetters } from './dead-letters.ts'
export { createDeadLetters, InvalidEntryIdError, isEntryId } from './dead-letters.ts'
export type { FailureReason } from './errors.ts'
export { HandlerTimeoutError, NonRetryableError, RetryLaterError } from './errors.ts'
export type { GroupStats } from './group-stats.ts'
export { readGroupStats } from './group-stats.ts'
export { compareStreamIds } from './ids.ts'
export type { Publisher, PublisherOptions } from './publisher.ts'
export { createPublisher, PublishError } from './publisher.ts'
export type { Trimmer, TrimOptions, TrimResult } from './trim.ts'
export { createTrimmer, trimStream } from './trim.ts'
