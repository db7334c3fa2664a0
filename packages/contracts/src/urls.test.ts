import { describe, expect, it } from 'bun:test'
import { inputsNotAnswering } from './testing.ts'
import { isPublicAddress, isPublicHttpsUrl, nonPublicAddressReason } from './urls.ts'

describe('isPublicHttpsUrl', () => {
  it('accepts public push services', () => {
    expect(
      inputsNotAnswering(true, isPublicHttpsUrl, [
        'https://fcm.googleapis.com/fcm/send/abc:def',
        'https://updates.push.services.mozilla.com/wpush/v2/gAAAA',
        'https://web.push.apple.com/QGuQyavXutnMZ',
        'https://8.8.8.8/push',
        'https://[2606:4700::1111]/push',
      ]),
    ).toEqual([])
  })

  it('refuses loopback, private, link-local, metadata and .internal hosts in any spelling', () => {
    expect(
      inputsNotAnswering(false, isPublicHttpsUrl, [
        'https://127.0.0.1/x',
        'https://127.1/x',
        'https://2130706433/x',
        'https://0x7f.0.0.1/x',
        'https://0.0.0.0/x',
        'https://localhost/x',
        'https://LOCALHOST./x',
        'https://app.localhost/x',
        'https://[::1]/x',
        'https://[::]/x',
        'https://[::ffff:127.0.0.1]/x',
        'https://[fe80::1]/x',
        'https://[fd00::1]/x',
        'https://10.0.0.8/x',
        'https://172.16.0.1/x',
        'https://192.168.1.1/x',
        'https://100.64.0.1/x',
        'https://169.254.169.254/latest/meta-data/',
        'https://flotilla-auth.internal:3001/v1/keys/rotate',
        'https://metadata.google.internal/computeMetadata/v1/',
        'https://printer.local/x',
        'https://metadata/x',
        'https://239.1.1.1/x',
        // IPv4-compatible IPv6 (::/96) reaches the IPv4 host on some stacks; NAT64 and 6to4 embed one too.
        'https://[::127.0.0.1]/x',
        'https://[::7f00:1]/x',
        'https://[::10.0.0.1]/x',
        'https://[64:ff9b::127.0.0.1]/x',
        'https://[2002:7f00:1::]/x',
        'https://[ff02::1]/x',
        // Empty labels: `localhost..` is not `localhost` to a string compare, but may resolve as one.
        'https://localhost../x',
        'https://localhost..:8443/x',
        'https://push.example..com/x',
        'https://.example.com/x',
      ]),
    ).toEqual([])
  })

  it('refuses other schemes, credentials and junk', () => {
    expect(
      inputsNotAnswering(false, isPublicHttpsUrl, [
        'http://fcm.googleapis.com/x',
        'https://user:pw@fcm.googleapis.com/x',
        'file:///etc/passwd',
        'not a url',
        '',
      ]),
    ).toEqual([])
  })
})

describe('nonPublicAddressReason', () => {
  it('passes public unicast addresses', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700::1111', '2a00:1450:4007:80f::200a'])
      expect(nonPublicAddressReason(address), address).toBeUndefined()
    expect(isPublicAddress('[2606:4700::1111]')).toBe(true)
  })

  it('names the range of every address that is not public', () => {
    const cases: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['192.168.0.1', 'private'],
      ['169.254.169.254', 'linkLocal'],
      ['100.64.0.1', 'carrierGradeNat'],
      ['0.0.0.0', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'broadcast'],
      ['192.0.2.1', 'reserved'],
      ['::1', 'loopback'],
      ['::', 'unspecified'],
      ['::ffff:127.0.0.1', 'ipv4Mapped'],
      ['::ffff:8.8.8.8', 'ipv4Mapped'],
      ['::7f00:1', 'ipv4Compatible'],
      ['::808:808', 'ipv4Compatible'],
      ['fe80::1', 'linkLocal'],
      ['fd12:3456::1', 'uniqueLocal'],
      ['ff02::1', 'multicast'],
      ['64:ff9b::7f00:1', 'rfc6052'],
      ['4000::1', 'notGlobalUnicast'],
      ['127.1', 'invalid'],
      ['localhost', 'invalid'],
      ['', 'invalid'],
    ]
    for (const [address, reason] of cases) expect(nonPublicAddressReason(address), address).toBe(reason)
  })
})
