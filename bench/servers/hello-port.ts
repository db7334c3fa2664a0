/** A Bun.serve hello on `PORT`, answering every path (the cold-start baseline, compiled like the apps). */
const server = Bun.serve({
  port: Number(process.env.PORT ?? 3000),
  hostname: '127.0.0.1',
  fetch: () => Response.json({ hello: 'world' }),
})
process.on('SIGTERM', () => {
  server.stop(true)
  process.exit(0)
})
