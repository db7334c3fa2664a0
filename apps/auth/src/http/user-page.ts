/** The route options every "a page of one user's things" route shares (sessions, devices). */
import { type TSchema, t } from 'elysia'
import { ErrorBody, type ErrorCode, errorList } from '../errors.ts'
import { PageQuery, UserId } from '../sessions/model.ts'

/**
 * `GET /v1/users/:userId/<things>`: a service token, or the user's own access token (another user's id
 * answers 404), cursor pagination, answering `page`.
 */
export const userPageOptions = <Page extends TSchema>(
  page: Page,
  { tag, summary, errors }: { tag: string; summary: string; errors: readonly ErrorCode[] },
) => ({
  params: t.Object({ userId: UserId }),
  query: PageQuery,
  response: { 200: page, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 422: ErrorBody },
  detail: {
    tags: [tag],
    summary,
    description: `Service token, or the user's own access token (another user's id answers 404).${errorList(...errors)}`,
    security: [{ bearer: [] }],
  },
})
