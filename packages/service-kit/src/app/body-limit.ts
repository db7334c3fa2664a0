/** Body size and media type checks, before Elysia parses a body. */
import { Elysia } from 'elysia'
import { payloadTooLarge, unsupportedMediaType } from '../errors/app-error.ts'

/**
 * Reads a copy of the body and stops as soon as it passes `limit` bytes (a missing or lying
 * `content-length` cannot get a large body through). Returns the size read.
 */
const measureBody = async (request: Request, limit: number): Promise<number> => {
  if (!request.body) return 0
  const reader = request.clone().body?.getReader()
  if (!reader) return 0
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return size
    size += value.byteLength
    if (size > limit) {
      // Not awaited: cancelling one branch of a tee resolves only once the other branch is cancelled too.
      void reader.cancel().catch(() => {})
      throw payloadTooLarge(limit)
    }
  }
}

/** Refuses a declared `content-length` (the header's value) over the limit before anything is read. */
const checkDeclaredLength = (contentLength: string | null, limit: number): void => {
  const declared = Number(contentLength ?? 0)
  if (Number.isFinite(declared) && declared > limit) throw payloadTooLarge(limit)
}

const mediaTypeOf = (contentType: string | null): string =>
  (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? ''

/**
 * The body size a request declares, when that bounds what can be read: a plain decimal `content-length`
 * and no `transfer-encoding`. On the wire Bun's HTTP parser takes exactly that many bytes as the body (RFC
 * 9112 §6.2; extra bytes are parsed as the next request), so there is no need to read a copy to count.
 * Requests built in-process (`app.handle`) are trusted code.
 */
const declaredLength = (request: Request, contentLength: string | null): number | undefined => {
  if (contentLength === null || !/^\d{1,15}$/.test(contentLength)) return undefined
  return request.headers.has('transfer-encoding') ? undefined : Number(contentLength)
}

/** Past the size check: the media type, only when there is a body. */
const checkMediaType = (request: Request, size: number, limit: number, accepted: readonly string[]) => {
  if (size > limit) throw payloadTooLarge(limit)
  if (size === 0) return
  const type = mediaTypeOf(request.headers.get('content-type'))
  if (!accepted.includes(type)) throw unsupportedMediaType(accepted)
}

/**
 * Refuses a declared `content-length` over the limit before anything is read, then checks the body's size
 * and its media type (only when there is a body). A chunked body, or one without a usable `content-length`,
 * is counted by reading a copy up to the limit: only then is the answer a promise (the usual request is
 * checked without one, as this runs on every request).
 */
export const checkBody = (
  request: Request,
  limit: number,
  accepted: readonly string[],
): void | Promise<void> => {
  const contentLength = request.headers.get('content-length')
  checkDeclaredLength(contentLength, limit)
  const size = declaredLength(request, contentLength)
  if (size === undefined)
    return measureBody(request, limit).then((read) => checkMediaType(request, read, limit, accepted))
  checkMediaType(request, size, limit, accepted)
}

/**
 * A smaller body limit for one route family (the app-wide limit still applies first). 413 in the one
 * error shape when `content-length` or the bytes read pass it.
 * @example new Elysia({ prefix: '/v1/sessions' }).use(bodyLimit(4 * 1024)).post('/', ...)
 */
export const bodyLimit = (limitBytes: number) =>
  new Elysia().onParse({ as: 'scoped' }, async ({ request }) => {
    checkDeclaredLength(request.headers.get('content-length'), limitBytes)
    await measureBody(request, limitBytes)
  })
