/** A Bun.serve JSON hello on a free port (introspection baseline). Prints `{ port }` once listening. */
const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => Response.json({ hello: 'world' }) })
console.log(JSON.stringify({ port: server.port }))
process.on('SIGTERM', () => process.exit(0))
