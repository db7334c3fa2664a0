import { describe, expect, it } from 'bun:test'
import { captureLogger } from '../test-fixtures.ts'
import { closeAll, onShutdown } from './shutdown.ts'

describe('onShutdown', () => {
  it('closes once and exits once however many signals arrive', async () => {
    const { logger } = captureLogger()
    let closes = 0
    const exits: number[] = []
    const handle = onShutdown(
      async () => {
        closes++
        await Bun.sleep(10)
      },
      { logger, exit: (code) => exits.push(code) },
    )
    try {
      process.emit('SIGTERM')
      process.emit('SIGINT')
      await handle.shutdown('test')
      await handle.shutdown('again')
      expect(closes).toBe(1)
      expect(exits).toEqual([0])
    } finally {
      handle.dispose()
    }
  })

  it('exits with 1 when close fails or outlives the timeout', async () => {
    const { logger, lines } = captureLogger()
    const exits: number[] = []
    const failing = onShutdown(
      () => {
        throw new Error('redis gone')
      },
      { logger, exit: (code) => exits.push(code), signals: [] },
    )
    await failing.shutdown()
    const hanging = onShutdown(() => new Promise<void>(() => {}), {
      logger,
      timeoutMs: 20,
      exit: (code) => exits.push(code),
      signals: [],
    })
    await hanging.shutdown()
    expect(exits).toEqual([1, 1])
    expect(lines.map((l) => l.msg)).toContain('close did not finish in time')
  })

  it('removes its signal listeners on dispose', () => {
    const { logger } = captureLogger()
    const before = process.listenerCount('SIGTERM')
    const handle = onShutdown(() => {}, { logger, exit: () => {} })
    expect(process.listenerCount('SIGTERM')).toBe(before + 1)
    handle.dispose()
    expect(process.listenerCount('SIGTERM')).toBe(before)
  })
})

describe('closeAll', () => {
  it('runs every step once, even after one fails, and is safe to call twice', async () => {
    const { logger, lines } = captureLogger()
    const ran: string[] = []
    const close = closeAll(
      [
        ['consumer', () => ran.push('consumer')],
        [
          'redis',
          () => {
            throw new Error('already closed')
          },
        ],
        ['store', async () => ran.push('store')],
      ],
      logger,
    )
    await Promise.all([close(), close()])
    await close()
    expect(ran).toEqual(['consumer', 'store'])
    expect(lines.filter((l) => l.msg === 'close step failed').map((l) => l.step)).toEqual(['redis'])
  })
})
