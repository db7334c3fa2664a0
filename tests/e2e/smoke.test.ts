import { afterAll, beforeAll, expect, it, setDefaultTimeout } from 'bun:test'
import { call } from './harness/http.ts'
import { APP_NAMES, type Stack, startStack } from './harness/stack.ts'

// Real processes on a shared 2-core machine: flows wait up to 20 s for the consumers.
setDefaultTimeout(60_000)

const present = APP_NAMES
let stack: Stack

beforeAll(async () => {
  stack = await startStack({ apps: present })
}, 120_000)
afterAll(() => stack?.stop())

it('starts every app that exists and the monolith, each ready', async () => {
  for (const app of present) expect((await call('GET', `${stack.url(app)}/ready`)).status).toBe(200)
  expect((await call('GET', `${stack.url('monolith')}/ready`)).status).toBe(200)
})
