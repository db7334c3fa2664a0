/**
 * The auth app's type where the auth app's source is not at hand (the packed SDK, e.g. in a Node project).
 * In the workspace `#auth-app` resolves to `@flotilla/auth` itself (the `bun` condition), so the client is typed
 * route by route there; the packed SDK carries only this general Elysia type, as shipping the app's type would
 * mean shipping the service's own declarations.
 */
import type { AnyElysia } from 'elysia'

export type AuthApp = AnyElysia
