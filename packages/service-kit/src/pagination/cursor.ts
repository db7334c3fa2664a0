/**
 * Opaque pagination cursors: base64url of a versioned JSON position (`{ v: 1, ...position }`), typed by a
 * TypeBox schema per use. Anything that is not a cursor this codec issued decodes to 400 `INVALID_CURSOR`.
 */
import { type Static, type TObject, type TProperties, type TSchema, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { badRequest } from '../errors/app-error.ts'

/** The code of the 400 a malformed, foreign, outdated or wrongly shaped cursor gets. */
export const INVALID_CURSOR = 'INVALID_CURSOR'

/** The longest cursor accepted; positions are a few short fields. */
export const MAX_CURSOR_LENGTH = 512

/** The `cursor` query field of a paginated route (the `nextCursor` of the previous page). */
export const CursorQuery = Type.String({
  maxLength: MAX_CURSOR_LENGTH,
  description: 'nextCursor of the previous page (opaque)',
})

/** The response of a paginated route: a page of `item` and the cursor of the next page (`null` on the last). */
export const CursorPage = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) })

export interface CursorCodec<T> {
  /** The opaque cursor of a position (url-safe, no padding). */
  encode(position: T): string
  /** The position of a cursor this codec issued; anything else throws `AppError` 400 `INVALID_CURSOR`. */
  decode(cursor: string): T
  /** `decode`, with `undefined` (no cursor: the first page) passed through. */
  decodeOptional(cursor: string | undefined): T | undefined
}

export interface CursorCodecOptions {
  /** Bump it when the position's shape or meaning changes: older cursors then answer 400. @defaultValue 1 */
  readonly version?: number
}

const BASE64URL = /^[A-Za-z0-9_-]+$/

/**
 * A codec for one kind of position, described by an object schema (no `v` property: that is the version).
 * Extra properties, missing ones, wrong types and other versions are all refused.
 * @example
 * const cursor = createCursorCodec(t.Object({ at: t.Integer(), id: t.String({ maxLength: 200 }) }))
 * const after = cursor.decodeOptional(query.cursor) // 400 INVALID_CURSOR on garbage
 * return { items, nextCursor: last ? cursor.encode({ at: last.createdAt, id: last.id }) : null }
 */
export const createCursorCodec = <P extends TProperties>(
  schema: TObject<P>,
  { version = 1 }: CursorCodecOptions = {},
): CursorCodec<Static<TObject<P>>> => {
  if ('v' in schema.properties) throw new Error('a cursor position cannot have a `v` property (the version)')
  const wire = Type.Object(
    { ...schema.properties, v: Type.Literal(version) },
    { additionalProperties: false },
  )
  const invalid = () => badRequest('cursor is not one this API issued', { code: INVALID_CURSOR })
  const decode = (cursor: string): Static<TObject<P>> => {
    if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) throw invalid()
    let value: unknown
    try {
      value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    } catch {
      throw invalid()
    }
    if (!Value.Check(wire, value)) throw invalid()
    const { v: _version, ...position } = value as Record<string, unknown>
    return position as Static<TObject<P>>
  }
  return {
    encode: (position) => Buffer.from(JSON.stringify({ v: version, ...position })).toString('base64url'),
    decode,
    decodeOptional: (cursor) => (cursor === undefined ? undefined : decode(cursor)),
  }
}
