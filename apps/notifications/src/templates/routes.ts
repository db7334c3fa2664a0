/** Template routes: list the templates, preview one (render without sending). Service token. */
import { AppError, notFound, type ServiceVerifier, serviceAuth } from '@flotilla/service-kit'
import { NonRetryableError } from '@flotilla/streams'
import { Elysia, t } from 'elysia'
import { ErrorBody, errorList, SERVICE_TOKEN } from '../errors.ts'
import { PreviewBody, PreviewResult, TemplateList } from './model.ts'
import type { TemplateRegistry } from './registry.ts'

export interface TemplateRouteDeps {
  readonly registry: TemplateRegistry
  readonly verifier: ServiceVerifier
}

export const templateRoutes = ({ registry, verifier }: TemplateRouteDeps) =>
  new Elysia({ name: 'notifications/templates' })
    .use(serviceAuth({ verifier }))
    .get('/v1/templates', () => ({ items: registry.list(), defaultLocale: registry.defaultLocale }), {
      response: { 200: TemplateList, 401: ErrorBody },
      detail: {
        tags: ['templates'],
        summary: 'List templates with their channels, locales and declared variables',
        description: errorList('INVALID_TOKEN'),
        security: SERVICE_TOKEN,
      },
    })
    .post(
      '/v1/templates/:name/preview',
      ({ params, body }) => {
        const template = registry.get(params.name)
        if (!template) throw notFound(`no template named ${params.name}`)
        const locale = registry.resolveLocale(template.name, body.locale)
        const channels = body.channels ?? registry.channelsOf(template.name, registry.defaultLocale)
        try {
          const rendered = registry.render(template.name, {
            channels,
            locale: body.locale,
            data: body.data ?? {},
            recipient: { locale, timezone: body.timezone },
          })
          return { template: template.name, ...rendered }
        } catch (error) {
          if (!(error instanceof NonRetryableError)) throw error
          const problems = (error as { problems?: unknown }).problems
          throw new AppError(422, error.code, error.message, problems ? { details: problems } : {})
        }
      },
      {
        params: t.Object({ name: t.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$' }) }),
        body: PreviewBody,
        response: { 200: PreviewResult, 401: ErrorBody, 404: ErrorBody, 422: ErrorBody },
        detail: {
          tags: ['templates'],
          summary: 'Render a template without sending it',
          description: `Refuses \`data\` that sets a system variable (\`app\`, \`recipient\`, \`links\`, \`unsubscribe\`: \`TEMPLATE_DATA_RESERVED\`), validates it against the template's declared variables, resolves the locale (exact, then language, then the default) and renders each channel. HTML is escaped by default.${errorList('INVALID_TOKEN', 'NOT_FOUND', 'TEMPLATE_DATA_INVALID', 'TEMPLATE_DATA_RESERVED', 'TEMPLATE_CHANNEL_MISSING', 'VALIDATION_FAILED')}`,
          security: SERVICE_TOKEN,
        },
      },
    )
