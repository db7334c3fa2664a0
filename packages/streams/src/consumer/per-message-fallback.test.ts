import { describe, expect, it } from 'bun:test'
import { withPerMessageFallback } from './per-message-fallback.ts'

interface Msg {
  readonly streamId: string
  readonly value: number
}
const messages: Msg[] = [1, 2, 3, 4].map((value) => ({ streamId: `1-${value}`, value }))

describe('withPerMessageFallback', () => {
  it('calls the batch function once and reports no failure when it succeeds', async () => {
    const batches: number[][] = []
    const singles: number[] = []
    const handler = withPerMessageFallback<Msg>(
      async (ms) => batches.push(ms.map((m) => m.value)),
      async (m) => singles.push(m.value),
    )
    expect(await handler.handleBatch(messages)).toBeUndefined()
    expect(batches).toEqual([[1, 2, 3, 4]])
    expect(singles).toEqual([])
  })

  it('retries each message alone after a failed batch and maps only the bad ones to their errors', async () => {
    const committed: number[] = []
    const handler = withPerMessageFallback<Msg>(
      async () => {
        throw new Error('batch refused')
      },
      async (m) => {
        if (m.value % 2 === 0) throw new Error(`bad ${m.value}`)
        committed.push(m.value)
      },
    )
    const failed = await handler.handleBatch(messages)
    expect(committed).toEqual([1, 3])
    expect([...(failed ?? new Map()).entries()].map(([id, e]) => [id, e.message])).toEqual([
      ['1-2', 'bad 2'],
      ['1-4', 'bad 4'],
    ])
  })

  it('returns undefined when every message succeeds alone after the batch failed', async () => {
    let singles = 0
    const handler = withPerMessageFallback<Msg>(
      () => Promise.reject(new Error('one transaction too many')),
      async () => {
        singles++
      },
    )
    expect(await handler.handleBatch(messages)).toBeUndefined()
    expect(singles).toBe(4)
  })

  it('turns a thrown non-Error into an Error', async () => {
    const handler = withPerMessageFallback<Msg>(
      () => Promise.reject('no'),
      () => Promise.reject('still no'),
    )
    const failed = await handler.handleBatch(messages.slice(0, 1))
    expect(failed?.get('1-1')).toBeInstanceOf(Error)
    expect(failed?.get('1-1')?.message).toBe('still no')
  })
})
