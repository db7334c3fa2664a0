/**
 * Route `parse` hooks that name their content types. The kit's global body-limit hook is a function, and
 * the OpenAPI generator lists a request body only for named parsers, so each route with a body says
 * which types it takes.
 */

/** JSON bodies only. */
export const jsonBody = ['json'] as const

// Picks the parser by content type; the named entries after it only document the accepted types. Not `async`:
// Elysia awaits the body's own promise, without a second one wrapped around it.
const formOrJsonParser = ({ request, contentType }: { request: Request; contentType: string }) => {
  const type = contentType.toLowerCase()
  if (type.startsWith('application/x-www-form-urlencoded')) {
    return request.text().then((text) => Object.fromEntries(new URLSearchParams(text)))
  }
  if (type.startsWith('application/json')) return request.json()
  return undefined
}

/** JSON or `application/x-www-form-urlencoded` (RFC 7662 introspection requests). */
export const formOrJsonBody = [formOrJsonParser, 'json', 'urlencoded'] as const
