/** Preference schemas: opt-outs per category × channel. */
import { Channel } from '@flotilla/contracts'
import { t } from 'elysia'

const Category = t.String({
  pattern: '^[a-z0-9][a-z0-9_-]{0,63}$',
  description: 'e.g. account, security, marketing',
})

export const OptOut = t.Object({ category: Category, channel: Channel }, { additionalProperties: false })
export type OptOut = typeof OptOut.static

export const Preferences = t.Object({
  userId: t.String(),
  optOuts: t.Array(OptOut, {
    description: 'category × channel pairs the user does not want (critical ones still arrive)',
  }),
})
export type Preferences = typeof Preferences.static

export const PutPreferencesBody = t.Object(
  { optOuts: t.Array(OptOut, { maxItems: 200, description: 'replaces the whole set' }) },
  { additionalProperties: false },
)
export type PutPreferencesBody = typeof PutPreferencesBody.static
