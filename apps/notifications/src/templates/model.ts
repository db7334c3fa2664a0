/** Template shapes: per channel, per locale; variables declared once as a TypeBox schema. */
import { Channel } from '@flotilla/contracts'
import type { TObject } from '@sinclair/typebox'
import { t } from 'elysia'

export type ChannelName = typeof Channel.static

export interface EmailParts {
  readonly subject: string
  readonly html: string
  readonly text: string
}
export interface SmsParts {
  readonly text: string
}
export interface PushParts {
  readonly title: string
  readonly body: string
}

/** Liquid source of one template in one locale, per channel (a channel may be absent). */
export interface LocalizedSources {
  readonly email?: EmailParts
  readonly sms?: SmsParts
  readonly push?: PushParts
}

/** One template: what it needs (`variables`), its defaults, and its sources per locale. */
export interface TemplateDefinition {
  readonly name: string
  readonly description: string
  /** Preference category (opt-outs are per category × channel). */
  readonly category: string
  /** Critical notifications ignore opt-outs (security alerts). @defaultValue false */
  readonly critical?: boolean
  /** Channels used when a request names none. */
  readonly defaultChannels: readonly ChannelName[]
  /** The data the template needs; event data is validated against it before anything is rendered. */
  readonly variables: TObject
  /** Sources per locale; the registry's default locale must be present. */
  readonly locales: Readonly<Record<string, LocalizedSources>>
  /**
   * Collects what arrives for one recipient on one channel within `windowMs` of the first into one message,
   * rendered by `template` with `count` and `items` (each request's data, oldest first); a window that
   * collected one sends this template's own message. Critical, scheduled and held requests are never collected.
   */
  readonly digest?: { readonly template: string; readonly windowMs: number }
}

/** A rendered message for one channel: what a transport sends. */
export type RenderedMessage =
  | ({ readonly channel: 'email' } & EmailParts)
  | ({ readonly channel: 'sms' } & SmsParts)
  | ({ readonly channel: 'push' } & PushParts)

const RenderedMessageSchema = t.Union([
  t.Object({ channel: t.Literal('email'), subject: t.String(), html: t.String(), text: t.String() }),
  t.Object({ channel: t.Literal('sms'), text: t.String() }),
  t.Object({ channel: t.Literal('push'), title: t.String(), body: t.String() }),
])

export const TemplateSummary = t.Object({
  name: t.String(),
  description: t.String(),
  category: t.String(),
  critical: t.Boolean(),
  defaultChannels: t.Array(Channel),
  channels: t.Array(Channel, { description: 'channels with content in the default locale' }),
  locales: t.Array(t.String()),
  variables: t.Unknown({ description: 'JSON Schema of the data the template needs' }),
})
export type TemplateSummary = typeof TemplateSummary.static

export const TemplateList = t.Object({ items: t.Array(TemplateSummary), defaultLocale: t.String() })

export const PreviewBody = t.Object(
  {
    locale: t.Optional(t.String({ pattern: '^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$', maxLength: 35 })),
    timezone: t.Optional(t.String({ maxLength: 64 })),
    channels: t.Optional(t.Array(Channel, { minItems: 1, maxItems: 3, uniqueItems: true })),
    data: t.Optional(t.Record(t.String({ maxLength: 100 }), t.Unknown())),
  },
  { additionalProperties: false },
)
export type PreviewBody = typeof PreviewBody.static

export const PreviewResult = t.Object({
  template: t.String(),
  locale: t.String({ description: 'the locale actually used after fallback' }),
  messages: t.Array(RenderedMessageSchema),
})
export type PreviewResult = typeof PreviewResult.static
