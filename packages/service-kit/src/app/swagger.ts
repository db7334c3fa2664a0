/**
 * Swagger UI at `/swagger`, OpenAPI JSON at `/swagger/json`; the UI's files come from this app, not a CDN. Every
 * URL the page loads is relative, so it works under the gateway's `/<service>/swagger` too, and the document's
 * `servers` is the gateway's `X-Forwarded-Prefix`, so "Try it out" calls go through the gateway.
 */
import { openapi } from '@elysiajs/openapi'
import { Elysia, type TSchema } from 'elysia'
import faviconPath from 'swagger-ui-dist/favicon-32x32.png' with { type: 'file' }
import cssPath from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' }
// Imported as files so `bun build --compile` embeds them; at runtime each is a path Bun.file can read.
import bundlePath from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' }
import { ErrorBody } from '../errors/app-error.ts'
import { type DeclaredResponses, ERROR_BODY_MODEL, finishDocument } from './openapi-document.ts'

/** Where the UI's assets are served. */
export const SWAGGER_ASSETS_PATH = '/swagger/assets'
/** Where the Swagger UI page is served. */
const SWAGGER_PAGE_PATH = '/swagger'
/** Where the OpenAPI document is served. */
const SWAGGER_JSON_PATH = '/swagger/json'
// Relative to the page (`/swagger`, or `/audit/swagger` behind the gateway): never the host's root.
const RELATIVE_ASSETS = SWAGGER_ASSETS_PATH.slice(1)

const ASSETS: Readonly<Record<string, { path: string; type: string }>> = {
  'swagger-ui-bundle.js': { path: bundlePath, type: 'text/javascript; charset=utf-8' },
  'swagger-ui.css': { path: cssPath, type: 'text/css; charset=utf-8' },
  'favicon-32x32.png': { path: faviconPath, type: 'image/png' },
}

export interface SwaggerOptions {
  readonly title: string
  readonly description: string
  /** Tags that group the routes in the UI. */
  readonly tags?: readonly { name: string; description?: string }[]
  /**
   * Shared models, by name: each lands in `components.schemas` and every inline copy of it in the document becomes
   * a `$ref` (the kit registers `ErrorBody`).
   */
  readonly models?: Readonly<Record<string, TSchema>>
}

/** The security scheme routes behind a bearer token refer to: `detail: { security: [{ bearer: [] }] }`. */
export const BEARER_SECURITY = 'bearer'

/** What the document needs of a mounted route. */
interface RouteLike {
  readonly method: string
  readonly path: string
  readonly hooks: { readonly detail?: unknown }
}

/** The OpenAPI document plugin plus the routes that serve Swagger UI's files. */
export const swagger = (options: SwaggerOptions & { version: string }) => {
  const plugin = new Elysia({ name: '@flotilla/service-kit/swagger' })
  // What routes declared in `detail.responses` (a 204, a non-JSON body): the plugin drops it when the route
  // also has response schemas. Read once, on the first document request, when every route is mounted.
  let declared: DeclaredResponses[] | undefined
  const declaredResponses = () =>
    // getGlobalRoutes is protected in Elysia's types; @elysiajs/openapi builds the document from it the same way.
    (declared ??= (plugin as unknown as { getGlobalRoutes(): RouteLike[] })
      .getGlobalRoutes()
      .flatMap((route) => {
        const responses = (route.hooks.detail as { responses?: Record<string, unknown> } | undefined)
          ?.responses
        return responses ? [{ method: route.method, path: route.path, responses }] : []
      }))
  return (
    plugin
      .model({ [ERROR_BODY_MODEL]: ErrorBody, ...options.models })
      // The page's URLs are relative to `/swagger`; at `/swagger/` they would miss, so send the browser back there.
      .onRequest(({ request }) => {
        if (!request.url.includes(`${SWAGGER_PAGE_PATH}/`)) return
        const url = new URL(request.url)
        if (url.pathname !== `${SWAGGER_PAGE_PATH}/`) return
        return new Response(null, {
          status: 308,
          headers: { location: `..${SWAGGER_PAGE_PATH}${url.search}` },
        })
      })
      // Local to this plugin: it sees the document route of the openapi plugin below, and nothing else.
      .onAfterHandle(({ request, responseValue }) => {
        if (new URL(request.url).pathname !== SWAGGER_JSON_PATH) return
        if (typeof responseValue !== 'object' || responseValue === null || responseValue instanceof Response)
          return
        return finishDocument(responseValue as Record<string, unknown>, {
          prefix: request.headers.get('x-forwarded-prefix'),
          declaredResponses: declaredResponses(),
        })
      })
      .get(
        `${SWAGGER_ASSETS_PATH}/:file`,
        ({ params, set }) => {
          const asset = ASSETS[params.file]
          if (!asset) {
            set.status = 404
            return { error: { code: 'NOT_FOUND', message: 'no such asset' } }
          }
          return new Response(Bun.file(asset.path), {
            headers: { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' },
          })
        },
        { detail: { hide: true } },
      )
      .use(
        openapi({
          path: SWAGGER_PAGE_PATH,
          specPath: SWAGGER_JSON_PATH,
          provider: 'swagger-ui',
          // Paths with a dot (`/.well-known/jwks.json`) are documented too.
          exclude: { staticFile: false },
          documentation: {
            info: { title: options.title, description: options.description, version: options.version },
            ...(options.tags ? { tags: options.tags.map((tag) => ({ ...tag })) } : {}),
            components: {
              securitySchemes: {
                [BEARER_SECURITY]: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
              },
            },
          },
          swagger: {
            cdn: `${RELATIVE_ASSETS}/swagger-ui-bundle.js`,
            theme: `${RELATIVE_ASSETS}/swagger-ui.css`,
            autoDarkMode: false,
          },
        }),
      )
  )
}
