/** @flotilla/auth — the app factory and its type (for the monolith's Eden treaty client), config and models. */

export type { AppDeps, AuthApp } from './app.ts'
export { createApp } from './app.ts'
export type { AuthConfig } from './config.ts'
export { AuthConfigSchema, loadAuthConfig, settingsOf } from './config.ts'
export type { AuthSettings, Core } from './deps.ts'
export { buildCore } from './deps.ts'
export { DevicePage, DeviceView } from './devices/model.ts'
export type { ErrorCode } from './errors.ts'
export { ERROR_CODES } from './errors.ts'
export { IntrospectBody, IntrospectionResult } from './introspection/model.ts'
export { authService, VERSION } from './service.ts'
export {
  CreatedSession,
  CreateSessionBody,
  RefreshBody,
  SessionPage,
  SessionView,
  TokenPair,
} from './sessions/model.ts'
