/** The one error shape every route answers with. */
import { t } from 'elysia'

export const ErrorBody = t.Object({
  error: t.Object({ code: t.String(), message: t.String(), details: t.Optional(t.Unknown()) }),
})
