/** Errors as data: a status, a machine-readable code, rendered as `{ error: { code, message, details } }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
  }
}

export const unauthorized = (message = 'missing or invalid access token') =>
  new HttpError(401, 'UNAUTHORIZED', message)
