import { afterAll, beforeAll, expect, it } from 'bun:test'
import { call } from './harness/http.ts'
import { APP_NAMES, hasApp, type Stack, startStack } from './harness/stack.ts'

const present = APP_NAMES.filter(hasApp)
let stack: Stack

beforeAll(async () => {
  stack = await startStack({ apps: present })
}, 120_000)
afterAll(() => stack?.stop())

it('starts every app that exists and the monolith, each ready', async () => {
  for (const app of present) expect((await call('GET', `${stack.url(app)}/ready`)).status).toBe(200)
  expect((await call('GET', `${stack.url('monolith')}/ready`)).status).toBe(200)
})
