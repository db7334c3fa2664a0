/** Device routes: list a user's devices, forget one (revoking its sessions). Service or the user's own token. */
import { createCursorCodec } from '@flotilla/service-kit'
import { Elysia, t } from 'elysia'
import { ErrorBody, errorList, notFound } from '../errors.ts'
import { actorOf, assertActsFor, type Guards } from '../http/guards.ts'
import { causeOf } from '../http/request-info.ts'
import { userPageOptions } from '../http/user-page.ts'
import { DeviceId, RevokedCount, UserId } from '../sessions/model.ts'
import type { SessionService } from '../sessions/service.ts'
import { DevicePage, type DeviceView } from './model.ts'
import type { DeviceRecord, DeviceStore } from './store.ts'

export interface DeviceRouteDeps {
  readonly sessions: SessionService
  readonly devices: DeviceStore
  readonly guards: Guards
}

const toView = (d: DeviceRecord): DeviceView => ({
  id: d.id,
  ...(d.name ? { name: d.name } : {}),
  ...(d.userAgent ? { userAgent: d.userAgent } : {}),
  ...(d.ip ? { ip: d.ip } : {}),
  firstSeenAt: new Date(d.firstSeenAt).toISOString(),
  lastSeenAt: new Date(d.lastSeenAt).toISOString(),
})

/** Where a page of devices (most recently seen first, then id) starts: after this device. */
const deviceCursor = createCursorCodec(
  t.Object({ lastSeenAt: t.Integer(), id: t.String({ minLength: 1, maxLength: 200 }) }),
)
const after = (position: { lastSeenAt: number; id: string } | undefined) => (d: DeviceRecord) =>
  !position ||
  d.lastSeenAt < position.lastSeenAt ||
  (d.lastSeenAt === position.lastSeenAt && d.id.localeCompare(position.id) > 0)

const bearer = [{ bearer: [] }]

export const deviceRoutes = ({ sessions, devices, guards }: DeviceRouteDeps) =>
  new Elysia({ name: 'auth/devices' })
    .use(guards.caller)
    .get(
      '/v1/users/:userId/devices',
      async ({ params, query, caller }) => {
        assertActsFor(caller, params.userId)
        const limit = query.limit ?? 20
        const position = deviceCursor.decodeOptional(query.cursor)
        const all = (await devices.list(params.userId)).filter(after(position))
        const page = all.slice(0, limit)
        const last = page.at(-1)
        return {
          items: page.map(toView),
          nextCursor:
            all.length > limit && last
              ? deviceCursor.encode({ lastSeenAt: last.lastSeenAt, id: last.id })
              : null,
        }
      },
      userPageOptions(DevicePage, {
        tag: 'devices',
        summary: "List a user's devices (most recently seen first, cursor pagination)",
        errors: ['INVALID_CURSOR', 'INVALID_TOKEN', 'NOT_FOUND', 'VALIDATION_FAILED'],
      }),
    )
    .delete(
      '/v1/users/:userId/devices/:deviceId',
      async ({ params, caller, request }) => {
        assertActsFor(caller, params.userId)
        const removed = await sessions.removeDevice(
          params.userId,
          params.deviceId,
          causeOf(request, actorOf(caller)),
        )
        if (!removed) throw notFound('device not found')
        return { revoked: 1 }
      },
      {
        params: t.Object({ userId: UserId, deviceId: DeviceId }),
        response: { 200: RevokedCount, 401: ErrorBody, 404: ErrorBody, 422: ErrorBody },
        detail: {
          tags: ['devices'],
          summary: 'Forget a device and sign out its sessions',
          description: `Publishes \`auth.session.revoked\` (\`device_removed\`) per session of the device.${errorList('INVALID_TOKEN', 'NOT_FOUND', 'VALIDATION_FAILED')}`,
          security: bearer,
        },
      },
    )
