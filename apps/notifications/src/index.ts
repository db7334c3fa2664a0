/** @flotilla/notifications — the app factory and its type, config, the rules, templates and the models clients see. */

export type { AppDeps, NotificationsApp } from './app.ts'
export { AUDIENCE, createApp } from './app.ts'
export type { Transport } from './channels/types.ts'
export type { NotificationsConfig } from './config.ts'
export {
  databaseUrlOf,
  loadNotificationsConfig,
  NotificationsConfigSchema,
  settingsOf,
  transportSettingsOf,
} from './config.ts'
export { createNotificationConsumer, NOTIFICATIONS_GROUP } from './consumer.ts'
export { copyNotificationsToPostgres } from './db/copy.ts'
export type { DeliveryStatus } from './deliveries/model.ts'
export { DELIVERY_STATUSES, DeliveryDetail, DeliveryPage, DeliveryView } from './deliveries/model.ts'
export type { Core, Settings } from './deps.ts'
export { buildCore } from './deps.ts'
export type { ErrorCode } from './errors.ts'
export { ERROR_CODES } from './errors.ts'
export { CONSUMED_EVENT_TYPES, notificationHandlers, RULES } from './handlers/index.ts'
export { Preferences, PutPreferencesBody } from './preferences/model.ts'
export { notificationsService, VERSION } from './service.ts'
export { SHIPPED_TEMPLATES } from './templates/catalog/index.ts'
export type { RenderedMessage, TemplateDefinition } from './templates/model.ts'
export { PreviewBody, PreviewResult, TemplateList, TemplateSummary } from './templates/model.ts'
