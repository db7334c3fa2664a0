// quick interleaved wrk A/B: bun ab.ts seconds rounds name=script[:path] ...
import { TEST_SERVICE_SECRET } from '@flotilla/auth/testing'
import { createServiceTokenSigner, parseKeyRing } from '@flotilla/contracts'
const [sec, rounds, ...specs] = process.argv.slice(2)
const signer = createServiceTokenSigner(parseKeyRing(TEST_SERVICE_SECRET), 'monolith')
const servers: any[] = []
for (const spec of specs) {
  const [name, rest] = spec.split('=')
  const [script, path = '/'] = rest!.split(':')
  const proc = Bun.spawn(['bun', script!], { stdout: 'pipe', stderr: 'inherit' })
  const reader = proc.stdout.getReader(); let text = ''
  while (!text.includes('\n')) { const { value } = await reader.read(); text += new TextDecoder().decode(value) }
  reader.releaseLock()
  const info = JSON.parse(text.slice(0, text.indexOf('\n')))
  const s = { info, url: `http://127.0.0.1:${info.port}`, pid: proc.pid, stop: async () => { proc.kill('SIGTERM'); await proc.exited } }
  servers.push({ name, s, path })
}
let lastN = 0
const cpu = (pid: number) => { const f = require('fs').readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10_000 }
const wrk = async (url: string, lua?: string) => {
  const p = Bun.spawn(['wrk', '-t1', '-c32', `-d${sec}s`, ...(lua ? ['-s', lua] : []), url], { stdout: 'pipe' })
  const t = await new Response(p.stdout).text()
  lastN = Number(t.match(/(\d+) requests in/)?.[1])
  if (/Non-2xx/.test(t)) console.log('NON2XX', url)
  return Number(t.match(/Requests\/sec:\s+([\d.]+)/)?.[1])
}
const res = new Map<string, number[]>()
const cpuRes = new Map<string, number[]>()
for (let r = 0; r <= Number(rounds); r++) {
  for (const { name, s, path } of servers) {
    let lua: string | undefined
    if (path !== 'GET') {
      const token = await signer.sign({ audience: 'auth' })
      lua = `/tmp/ph/${name}.lua`
      await Bun.write(lua, `wrk.method = "POST"\nwrk.body = '${JSON.stringify({ token: s.info.accessToken ?? 'x'.repeat(600) })}'\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer ${token}"\n`)
    }
    const c0 = cpu(s.pid)
    const rate = await wrk(`${s.url}${path === 'GET' ? '/' : path}`, lua)
    const us = (cpu(s.pid) - c0) / lastN
    if (r > 0) { res.set(name, [...(res.get(name) ?? []), rate]); cpuRes.set(name, [...(cpuRes.get(name) ?? []), us]) }
  }
}
const base = res.get('hello')!
for (const [name, rates] of res) console.log(name.padEnd(12), rates.map((x) => Math.round(x)).join(' '), ' ratios', rates.map((x, i) => (x / base[i]!).toFixed(3)).join(' '))
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!
for (const [name, us] of cpuRes) console.log(name.padEnd(12), 'cpu µs/req', us.map((x) => x.toFixed(1)).join(' '), ' median', med(us).toFixed(1), ' ratio(hello/this)', (med(cpuRes.get('hello')!) / med(us)).toFixed(3))
console.log('load', (await Bun.file('/proc/loadavg').text()).trim())
for (const { s } of servers) await s.stop()
process.exit(0)
