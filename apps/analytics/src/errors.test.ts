import { afterAll, beforeAll, expect, it } from 'bun:test'
import { errorDocProblems } from '@flotilla/service-kit'
import { ERRORS } from './errors.ts'
import { createTestApp, type TestApp } from './testing.ts'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t.close())

it('lists, on every route of its own, only error codes its ERRORS map declares', async () => {
  const doc = (await (await t.get('/swagger/json')).json()) as Parameters<typeof errorDocProblems>[0]
  // Its own routes: the dead-letter routes are the kit's, documented by the kit.
  const own = (path: string) => path.startsWith('/v1/') && !path.startsWith('/v1/dead-letters')
  expect(errorDocProblems(doc, ERRORS, { routes: own })).toEqual({
    undeclared: [],
    unlisted: [],
  })
})
