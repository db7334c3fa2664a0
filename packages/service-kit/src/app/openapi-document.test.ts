import { describe, expect, it } from 'bun:test'
import { finishDocument } from './openapi-document.ts'

const errorBody = { type: 'object', properties: { error: { type: 'object' } }, required: ['error'] }
const raw = () => ({
  openapi: '3.1.2',
  info: { title: 't', version: '1' },
  paths: {
    '/v1/things/{id}': {
      put: {
        security: [{ bearer: [] }],
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { content: { 'application/json': { schema: { type: 'object' } } } },
        responses: {
          200: {
            description: 'Response for status 200',
            content: { 'application/json': { schema: { nullable: true, type: ['number', 'null'] } } },
          },
          404: {
            description: 'Response for status 404',
            content: { 'application/json': { schema: errorBody } },
          },
        },
      },
      delete: { security: [], responses: { 404: { description: 'gone' } } },
    },
  },
  components: { schemas: { ErrorBody: errorBody } },
})

/** The parts of a finished document these tests read. */
interface Finished {
  paths: Record<
    string,
    Record<
      string,
      { responses: Record<string, { description?: string; content?: Record<string, { schema: unknown }> }> }
    >
  >
  components: { schemas: Record<string, unknown> }
}

describe('finishDocument', () => {
  it('refers to registered models, adds the kit error responses, keeps declared ones, drops 3.0 nullable', () => {
    const source = raw()
    const before = JSON.stringify(source)
    const done = finishDocument(source, {
      declaredResponses: [
        { method: 'DELETE', path: '/v1/things/:id', responses: { 204: { description: 'deleted' } } },
      ],
    }) as unknown as Finished
    expect(JSON.stringify(source)).toBe(before)
    const put = done.paths['/v1/things/{id}']?.put
    expect(Object.keys(put?.responses ?? {}).sort()).toEqual([
      '200',
      '400',
      '401',
      '404',
      '413',
      '415',
      '422',
      '500',
    ])
    expect(put?.responses[404]).toEqual({
      description: 'Not found: see the codes under Errors',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
    })
    expect(put?.responses[200]?.content?.['application/json']?.schema).toEqual({ type: ['number', 'null'] })
    const del = done.paths['/v1/things/{id}']?.delete
    // Public (security: []): no 401; the route's own 204 survives.
    expect(Object.keys(del?.responses ?? {}).sort()).toEqual(['204', '404', '500'])
    expect(done.components.schemas.ErrorBody).toEqual(errorBody)
  })

  it('names the gateway prefix as the server, and ignores a prefix that is not a plain path', () => {
    const servers = (prefix: string | null) =>
      (finishDocument(raw(), { prefix }) as { servers: { url: string }[] }).servers[0]?.url
    expect(servers(null)).toBe('/')
    expect(servers('/audit')).toBe('/audit')
    expect(servers('/api/audit')).toBe('/api/audit')
    for (const forged of ['https://evil.example', '//evil.example', '/audit/../x', '/a"b', '/audit/'])
      expect(servers(forged)).toBe('/')
  })
})
