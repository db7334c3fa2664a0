/** @flotilla/contracts — the one typed contract: envelope, event catalogue, codec, stream names, service tokens. */

export type { CallPolicyOptions } from './call-policies.ts'
export { createCallPolicies } from './call-policies.ts'
export type {
  CatalogEntry,
  EventCatalog,
  EventType,
  LatestVersionOf,
  PayloadOf,
  VersionEntry,
  VersionOf,
} from './catalog.ts'
export {
  EVENT_TYPES,
  eventCatalog,
  isKnownType,
  isKnownVersion,
  latestVersionOf,
  versionEntryOf,
  versionsOfType,
} from './catalog.ts'
export type { DecodeResult, EntryFields } from './codec.ts'
export { assertValidEvent, decodeEntry, decodeEvent, encodeEntry, MAX_EVENT_BYTES } from './codec.ts'
export type {
  CreateEvent,
  CreateEventOptions,
  CreateKnownEventOptions,
  KnownEventArgs,
  LatestEventArgs,
} from './create-event.ts'
export { createCustomEvent, createEvent } from './create-event.ts'
export { EVENT_TYPE_PATTERN, EventEnvelope, envelopeOf, Party, TRACEPARENT_PATTERN } from './envelope.ts'
export type { ContractProblem } from './errors.ts'
export { ContractError } from './errors.ts'
export { SessionRevokedReason } from './events/auth.ts'
export { Channel, NotificationRequested, PushSubscription } from './events/notification.ts'
export { asyncApiDocument, jsonSchemaFiles } from './export.ts'
export type {
  KeyRing,
  ServiceTokenSigner,
  ServiceTokenSignerOptions,
  ServiceTokenVerifier,
  ServiceTokenVerifierOptions,
  SignServiceTokenOptions,
  VerifiedServiceToken,
} from './service-token.ts'
export {
  createServiceTokenSigner,
  createServiceTokenVerifier,
  MAX_SERVICE_TOKEN_TTL_SECONDS,
  MIN_SECRET_BYTES,
  parseKeyRing,
  SERVICE_TOKEN_TYPE,
  TokenError,
} from './service-token.ts'
export type { Consumes, ServiceInfo, ServiceName } from './services.ts'
export {
  consumersOf,
  EVERY_EVENT_CONSUMERS,
  flyAppOf,
  isServiceName,
  SERVICE_NAMES,
  SERVICES,
  urlVariableOf,
} from './services.ts'
export type { ConsumerGroupName } from './streams.ts'
export { CONSUMER_GROUPS, DEFAULT_EVENTS_STREAM, deadLetterStreamKey, ENTRY_FIELDS } from './streams.ts'
export type {
  KeyResolver,
  TimeClaims,
  TimeLimits,
  VerifiedTokenCache,
  VerifiedTokenCacheOptions,
} from './token-cache.ts'
export { createVerifiedTokenCache, verifyRemembering } from './token-cache.ts'
export type { AnyEvent, AnyVersionOf, EventOf, KnownEvent, OpaqueEvent } from './types.ts'
export type { UpcastResult } from './upcast.ts'
export { upcastEvent } from './upcast.ts'
export {
  isPublicAddress,
  isPublicHttpsUrl,
  nonPublicAddressReason,
  PUBLIC_HTTPS_URL_FORMAT,
  PUBLIC_HTTPS_URL_PATTERN,
} from './urls.ts'
