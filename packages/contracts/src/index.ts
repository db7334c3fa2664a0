/** @flotilla/contracts — the one typed contract: envelope, event catalogue, codec, stream names, service tokens. */
export { EventEnvelope, envelopeOf, EVENT_TYPE_PATTERN, Party, TRACEPARENT_PATTERN } from './envelope.ts'
export {
  eventCatalog,
  EVENT_TYPES,
  isKnownType,
  isKnownVersion,
  latestVersionOf,
  versionEntryOf,
  versionsOfType,
} from './catalog.ts'
export type {
  CatalogEntry,
  EventCatalog,
  EventType,
  LatestVersionOf,
  PayloadOf,
  VersionEntry,
  VersionOf,
} from './catalog.ts'
export type { AnyEvent, AnyVersionOf, EventOf, KnownEvent, OpaqueEvent } from './types.ts'
export { createCustomEvent, createEvent } from './create-event.ts'
export type { CreateEvent, CreateEventOptions, CreateKnownEventOptions } from './create-event.ts'
export { upcastEvent } from './upcast.ts'
export type { UpcastResult } from './upcast.ts'
export { assertValidEvent, decodeEntry, decodeEvent, encodeEntry, MAX_EVENT_BYTES } from './codec.ts'
export type { DecodeResult, EntryFields } from './codec.ts'
export { ContractError } from './errors.ts'
export type { ContractProblem } from './errors.ts'
export { CONSUMER_GROUPS, DEFAULT_EVENTS_STREAM, deadLetterStreamKey, ENTRY_FIELDS } from './streams.ts'
export type { ConsumerGroupName } from './streams.ts'
export {
  consumersOf,
  EVERY_EVENT_CONSUMERS,
  flyAppOf,
  isServiceName,
  SERVICE_NAMES,
  SERVICES,
  urlVariableOf,
} from './services.ts'
export type { Consumes, ServiceInfo, ServiceName } from './services.ts'
export {
  createServiceTokenSigner,
  createServiceTokenVerifier,
  MAX_SERVICE_TOKEN_TTL_SECONDS,
  MIN_SECRET_BYTES,
  parseKeyRing,
  SERVICE_TOKEN_TYPE,
  TokenError,
} from './service-token.ts'
export type {
  KeyRing,
  ServiceTokenSigner,
  ServiceTokenSignerOptions,
  ServiceTokenVerifier,
  ServiceTokenVerifierOptions,
  SignServiceTokenOptions,
  VerifiedServiceToken,
} from './service-token.ts'
export { createVerifiedTokenCache, verifyRemembering } from './token-cache.ts'
export type {
  KeyResolver,
  TimeClaims,
  TimeLimits,
  VerifiedTokenCache,
  VerifiedTokenCacheOptions,
} from './token-cache.ts'
export { Channel, NotificationRequested, PushSubscription } from './events/notification.ts'
export { SessionRevokedReason } from './events/auth.ts'
export { asyncApiDocument, jsonSchemaFiles } from './export.ts'
export {
  isPublicAddress,
  isPublicHttpsUrl,
  nonPublicAddressReason,
  PUBLIC_HTTPS_URL_FORMAT,
  PUBLIC_HTTPS_URL_PATTERN,
} from './urls.ts'
