import { describe, expect, it } from 'bun:test'
import { createInFlight } from './runtime.ts'

describe('in-flight ids', () => {
  it('knows the ids of batches and of single entries until each is released', () => {
    const inFlight = createInFlight()
    const first = ['1-0', '1-1']
    const second = ['2-0']
    inFlight.addBatch(first)
    expect(inFlight.has('1-1')).toBe(true)
    inFlight.addBatch(second)
    inFlight.add('9-0')
    expect(inFlight.size).toBe(4)
    expect(['1-0', '1-1', '2-0', '9-0', '3-0'].map((id) => inFlight.has(id))).toEqual([
      true,
      true,
      true,
      true,
      false,
    ])

    inFlight.deleteBatch(first)
    inFlight.deleteBatch(first)
    expect(inFlight.size).toBe(2)
    expect(inFlight.has('1-0')).toBe(false)
    expect(inFlight.has('2-0')).toBe(true)
    inFlight.delete('9-0')
    inFlight.deleteBatch(second)
    expect(inFlight.size).toBe(0)
    expect(['1-0', '2-0', '9-0'].some((id) => inFlight.has(id))).toBe(false)
  })

  it('counts a batch added twice once', () => {
    const inFlight = createInFlight()
    const batch = ['1-0']
    inFlight.addBatch(batch)
    inFlight.addBatch(batch)
    expect(inFlight.size).toBe(1)
    inFlight.deleteBatch(batch)
    expect(inFlight.size).toBe(0)
  })
})
