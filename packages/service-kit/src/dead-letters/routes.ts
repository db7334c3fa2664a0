/** Dead-letter inspector over HTTP: list, get, replay, purge — behind a service token. */
import { type DeadLetters, isEntryId } from '@flotilla/streams'
import { Elysia, t } from 'elysia'
import { BEARER_SECURITY } from '../app/swagger.ts'
import { serviceAuth } from '../auth/plugins.ts'
import type { ServiceVerifier } from '../auth/types.ts'
import { badRequest, ErrorBody, notFound } from '../errors/app-error.ts'

export const DeadLetterSchema = t.Object({
  id: t.String({ description: 'id on the dead-letter stream' }),
  originalId: t.String({ description: 'id the entry had on the main stream' }),
  originalStream: t.String(),
  group: t.String(),
  type: t.String({ description: "the entry's type field ('' when missing)" }),
  event: t.String({ description: "the entry's event field, raw (it may be malformed)" }),
  deliveries: t.Integer(),
  error: t.Object({ code: t.String(), message: t.String() }),
  failedAt: t.String({ format: 'date-time' }),
  replayOf: t.Optional(t.String()),
})
export type DeadLetterSchema = typeof DeadLetterSchema.static

export const DeadLetterPageSchema = t.Object({
  group: t.String(),
  items: t.Array(DeadLetterSchema),
  nextCursor: t.Union([t.String(), t.Null()]),
  total: t.Integer({ description: 'dead letters of this group right now' }),
})

// Ids and cursors are checked in the handlers (not by a schema pattern) so that every bad one, including a
// well-formed id past Redis's 64-bit range, gets the same 400 with its own code.
const ENTRY_ID_RULE = 'a stream entry id: `<ms>-<seq>`, each part 0…18446744073709551615, above `0-0`'
const EntryIdString = (description: string) =>
  t.String({ description: `${description} (${ENTRY_ID_RULE})`, examples: ['1764237600000-0'] })

/** 400 `INVALID_CURSOR` / `INVALID_ID` unless `value` is a stream entry id. */
const requireEntryId = (value: string, code: 'INVALID_CURSOR' | 'INVALID_ID', what: string): string => {
  if (isEntryId(value)) return value
  throw badRequest(`${what} must be ${ENTRY_ID_RULE.replaceAll('`', '')}`, {
    code,
    details: { [what]: value.slice(0, 64) },
  })
}

export interface DeadLetterRoutesOptions {
  /** The dead letters of each group this service consumes as, by group name. */
  readonly deadLetters: Readonly<Record<string, DeadLetters>>
  /** Service token verifier (audience = this service). */
  readonly auth: ServiceVerifier
}

/**
 * `GET /v1/dead-letters?group=&cursor=&limit=`, `GET /v1/dead-letters/:id?group=`,
 * `POST /v1/dead-letters/:id/replay?group=`, `DELETE /v1/dead-letters/:id?group=`. `group` may be
 * omitted when the service has one group.
 */
export const deadLetterRoutes = ({ deadLetters, auth }: DeadLetterRoutesOptions) => {
  const groups = Object.keys(deadLetters)
  const pick = (group: string | undefined): [string, DeadLetters] => {
    const name = group ?? (groups.length === 1 ? groups[0] : undefined)
    if (name === undefined)
      throw badRequest(`group is required: one of ${groups.join(', ')}`, { code: 'GROUP_REQUIRED' })
    const store = deadLetters[name]
    if (!store)
      throw notFound(`no dead letters for group ${name}`, { code: 'UNKNOWN_GROUP', details: { groups } })
    return [name, store]
  }
  const groupQuery = t.Object({ group: t.Optional(t.String({ minLength: 1 })) })
  const idParams = t.Object({ id: EntryIdString('id on the dead-letter stream') })
  /** Runs `action` on one dead letter of the group; nothing there (null, false) is 404. */
  const onLetter = async <T>(
    params: { id: string },
    group: string | undefined,
    action: (store: DeadLetters, id: string) => Promise<T>,
  ): Promise<[string, Exclude<T, null | undefined | false>]> => {
    const id = requireEntryId(params.id, 'INVALID_ID', 'id')
    const [name, store] = pick(group)
    const found = await action(store, id)
    if (!found) throw notFound(`no dead letter ${params.id} in group ${name}`)
    return [name, found as Exclude<T, null | undefined | false>]
  }
  const detail = (summary: string) => ({
    tags: ['dead letters'],
    summary,
    security: [{ [BEARER_SECURITY]: [] }],
  })
  const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 422: ErrorBody }

  return new Elysia({ prefix: '/v1/dead-letters' })
    .use(serviceAuth({ verifier: auth }))
    .get(
      '',
      async ({ query }) => {
        const cursor =
          query.cursor === undefined ? undefined : requireEntryId(query.cursor, 'INVALID_CURSOR', 'cursor')
        const [group, store] = pick(query.group)
        const [page, total] = await Promise.all([
          store.list({ ...(cursor ? { cursor } : {}), limit: query.limit ?? 50 }),
          store.count(),
        ])
        return { group, items: page.items, nextCursor: page.nextCursor, total }
      },
      {
        query: t.Object({
          group: t.Optional(t.String({ minLength: 1 })),
          cursor: t.Optional(EntryIdString('`nextCursor` of the previous page; omit it for the first page')),
          limit: t.Optional(t.Integer({ minimum: 1, maximum: 500, default: 50 })),
        }),
        response: { 200: DeadLetterPageSchema, ...errors },
        detail: detail('List dead letters of a group, newest first (cursor paging)'),
      },
    )
    .get(
      '/:id',
      async ({ params, query }) => {
        const [, letter] = await onLetter(params, query.group, (store, id) => store.get(id))
        return letter
      },
      {
        params: idParams,
        query: groupQuery,
        response: { 200: DeadLetterSchema, ...errors },
        detail: detail('One dead letter'),
      },
    )
    .post(
      '/:id/replay',
      async ({ params, query }) => {
        const [group, streamId] = await onLetter(params, query.group, (store, id) => store.replay(id))
        return { replayed: params.id, group, streamId }
      },
      {
        params: idParams,
        query: groupQuery,
        response: {
          200: t.Object({ replayed: t.String(), group: t.String(), streamId: t.String() }),
          ...errors,
        },
        detail: detail('Re-publish the original entry for this group and remove the dead letter'),
      },
    )
    .delete(
      '/:id',
      async ({ params, query, set }) => {
        await onLetter(params, query.group, (store, id) => store.purge(id))
        set.status = 204
      },
      {
        params: idParams,
        query: groupQuery,
        response: errors,
        detail: { ...detail('Delete one dead letter'), responses: { 204: { description: 'deleted' } } },
      },
    )
}
