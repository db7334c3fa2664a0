/** An Elysia JSON hello on a free port (introspection and memory baseline). Prints `{ port, pid }` once listening. */
import { Elysia } from 'elysia'

const app = new Elysia().get('/', () => ({ hello: 'world' })).listen({ port: 0, hostname: '127.0.0.1' })
console.log(JSON.stringify({ port: app.server?.port, pid: process.pid }))
process.on('SIGTERM', () => process.exit(0))
