import { describe, expect, it } from 'bun:test'
import { AppError } from '../errors/app-error.ts'
import { tenantScope } from './tenant-scope.ts'
import type { ServiceCaller, UserCaller } from './types.ts'

const service: ServiceCaller = { kind: 'service', service: 'monolith' }
const user = (tenantId?: string): UserCaller => ({
  kind: 'user',
  userId: 'u1',
  scopes: [],
  sessionId: 's1',
  ...(tenantId === undefined ? {} : { tenantId }),
})
const refusal = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    if (error instanceof AppError) return [error.status, error.code]
    throw error
  }
  throw new Error('expected a refusal')
}

describe('tenantScope', () => {
  it('lets a service read the tenant it names, or every tenant', () => {
    expect(tenantScope(service, 'globex')).toBe('globex')
    expect(tenantScope(service, undefined)).toBeUndefined()
  })

  it("scopes a user to its token's tenant, asked for or not", () => {
    expect(tenantScope(user('acme'), undefined)).toBe('acme')
    expect(tenantScope(user('acme'), 'acme')).toBe('acme')
  })

  it('answers 404 to a user asking for another tenant', () => {
    expect(refusal(() => tenantScope(user('acme'), 'globex'))).toEqual([404, 'NOT_FOUND'])
  })

  it('answers 403 TENANT_REQUIRED to a user token bound to no tenant (absent or empty)', () => {
    expect(refusal(() => tenantScope(user(), undefined))).toEqual([403, 'TENANT_REQUIRED'])
    expect(refusal(() => tenantScope(user(''), 'acme'))).toEqual([403, 'TENANT_REQUIRED'])
  })
})
