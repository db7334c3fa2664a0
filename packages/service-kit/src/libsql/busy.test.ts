import { describe, expect, it } from 'bun:test'
import { isBusyError, retryWhileBusy } from './busy.ts'

describe('retryWhileBusy', () => {
  it('recognises SQLite busy errors by code, message or anywhere in the cause chain', () => {
    expect(isBusyError(Object.assign(new Error('x'), { code: 'SQLITE_BUSY' }))).toBe(true)
    expect(isBusyError(new Error('SQLITE_BUSY: database is locked'))).toBe(true)
    expect(isBusyError(new Error('wrapped', { cause: new Error('database is locked') }))).toBe(true)
    expect(isBusyError(new Error('UNIQUE constraint failed'))).toBe(false)
  })

  it('retries while busy and returns the first success', async () => {
    let calls = 0
    const result = await retryWhileBusy(async () => {
      calls++
      if (calls < 3) throw new Error('database is locked')
      return 'done'
    })
    expect(result).toBe('done')
    expect(calls).toBe(3)
  })

  it('rethrows any other error at once, and a busy one after the deadline', async () => {
    let calls = 0
    const other = retryWhileBusy(async () => {
      calls++
      throw new Error('UNIQUE constraint failed')
    })
    await expect(other).rejects.toThrow('UNIQUE')
    expect(calls).toBe(1)
    await expect(
      retryWhileBusy(
        async () => {
          throw new Error('database is locked')
        },
        { deadlineMs: 30, collectGarbage: true },
      ),
    ).rejects.toThrow('locked')
  })
})
