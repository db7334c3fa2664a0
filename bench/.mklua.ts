import { TEST_SERVICE_SECRET } from '@flotilla/auth/testing'
import { createServiceTokenSigner, parseKeyRing } from '@flotilla/contracts'
const signer = createServiceTokenSigner(parseKeyRing(TEST_SERVICE_SECRET), 'monolith')
const token = await signer.sign({ audience: 'auth' })
console.log(`wrk.method = "POST"\nwrk.body = '${JSON.stringify({ token: process.argv[2] })}'\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer ${token}"\n`)
process.exit(0)
