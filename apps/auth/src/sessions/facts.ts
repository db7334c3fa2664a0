/** The `auth.*` facts the session service publishes, built from session records. */
import type { AnyEvent } from '@flotilla/contracts'
import type { DeviceRecord } from '../devices/store.ts'
import { authEvent, type Cause } from '../events.ts'
import type { SessionRevokedReason } from './model.ts'
import type { SessionRecord } from './store.ts'

const iso = (ms: number) => new Date(ms).toISOString()
const tenant = (tenantId: string | undefined) => (tenantId ? { tenantId } : {})

/** `auth.session.revoked` for one session; `id` pins the event id (idempotent republishing). */
export const sessionRevokedFact = (
  session: Pick<SessionRecord, 'id' | 'userId' | 'tenantId'>,
  reason: SessionRevokedReason,
  cause: Cause,
  id?: string,
) =>
  authEvent('auth.session.revoked', { sessionId: session.id, userId: session.userId, reason }, cause, {
    subject: { type: 'session', id: session.id },
    ...tenant(session.tenantId),
    ...(id ? { id } : {}),
  })

/** `auth.session.created`, plus `auth.device.added` when the device is new for this user. */
export const sessionCreatedFacts = (
  session: SessionRecord,
  device: { device: DeviceRecord; isNew: boolean } | undefined,
  cause: Cause,
): AnyEvent[] => {
  const facts: AnyEvent[] = [
    authEvent(
      'auth.session.created',
      {
        sessionId: session.id,
        userId: session.userId,
        scopes: session.scopes,
        expiresAt: iso(session.absoluteExpiresAt),
        ...(session.deviceId ? { deviceId: session.deviceId } : {}),
      },
      cause,
      { subject: { type: 'session', id: session.id }, ...tenant(session.tenantId) },
    ),
  ]
  if (device?.isNew) {
    const d = device.device
    facts.push(
      authEvent(
        'auth.device.added',
        {
          userId: session.userId,
          deviceId: d.id,
          ...(d.name ? { name: d.name } : {}),
          ...(d.userAgent ? { userAgent: d.userAgent } : {}),
          ...(d.ip ? { ip: d.ip } : {}),
        },
        cause,
        { subject: { type: 'device', id: d.id }, ...tenant(session.tenantId) },
      ),
    )
  }
  return facts
}

/** `auth.refresh.reused` and the family's `auth.session.revoked` (`refresh_reused`). */
export const refreshReusedFacts = (
  session: SessionRecord,
  cause: Cause & { ip?: string; userAgent?: string },
): AnyEvent[] => [
  authEvent(
    'auth.refresh.reused',
    {
      userId: session.userId,
      familyId: session.familyId,
      sessionId: session.id,
      ...(session.deviceId ? { deviceId: session.deviceId } : {}),
      ...(cause.ip ? { ip: cause.ip } : {}),
      ...(cause.userAgent ? { userAgent: cause.userAgent.slice(0, 1000) } : {}),
    },
    cause,
    { subject: { type: 'session', id: session.id }, ...tenant(session.tenantId) },
  ),
  sessionRevokedFact(session, 'refresh_reused', cause),
]
