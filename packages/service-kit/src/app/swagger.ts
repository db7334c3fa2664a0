/** Swagger UI at `/swagger`, OpenAPI JSON at `/swagger/json`; the UI's files come from this app, not a CDN. */
import { openapi } from '@elysiajs/openapi'
import { Elysia } from 'elysia'
// Imported as files so `bun build --compile` embeds them; at runtime each is a path Bun.file can read.
import bundlePath from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' }
import cssPath from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' }
import faviconPath from 'swagger-ui-dist/favicon-32x32.png' with { type: 'file' }

/** Where the UI's assets are served. */
export const SWAGGER_ASSETS_PATH = '/swagger/assets'

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
}

/** The security scheme routes behind a bearer token refer to: `detail: { security: [{ bearer: [] }] }`. */
export const BEARER_SECURITY = 'bearer'

/** The OpenAPI document plugin plus the routes that serve Swagger UI's files. */
export const swagger = (options: SwaggerOptions & { version: string }) =>
  new Elysia({ name: '@flotilla/service-kit/swagger' })
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
        path: '/swagger',
        specPath: '/swagger/json',
        provider: 'swagger-ui',
        // Paths with a dot (`/.well-known/jwks.json`) are documented too.
        exclude: { staticFile: false },
        documentation: {
          info: { title: options.title, description: options.description, version: options.version },
          tags: options.tags?.map((tag) => ({ ...tag })),
          components: {
            securitySchemes: {
              [BEARER_SECURITY]: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
            },
          },
        },
        swagger: {
          cdn: `${SWAGGER_ASSETS_PATH}/swagger-ui-bundle.js`,
          theme: `${SWAGGER_ASSETS_PATH}/swagger-ui.css`,
          autoDarkMode: false,
        },
      }),
    )
