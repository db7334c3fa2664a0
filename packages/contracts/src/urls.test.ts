import { describe, expect, it } from 'bun:test'
import { isPublicHttpsUrl } from './urls.ts'

describe('isPublicHttpsUrl', () => {
  it('accepts public push services', () => {
    for (const url of [
      'https://fcm.googleapis.com/fcm/send/abc:def',
      'https://updates.push.services.mozilla.com/wpush/v2/gAAAA',
      'https://web.push.apple.com/QGuQyavXutnMZ',
      'https://8.8.8.8/push',
      'https://[2606:4700::1111]/push',
    ])
      expect(isPublicHttpsUrl(url)).toBe(true)
  })

  it('refuses loopback, private, link-local, metadata and .internal hosts in any spelling', () => {
    for (const url of [
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
    ])
      expect(isPublicHttpsUrl(url), url).toBe(false)
  })

  it('refuses other schemes, credentials and junk', () => {
    for (const url of [
      'http://fcm.googleapis.com/x',
      'https://user:pw@fcm.googleapis.com/x',
      'file:///etc/passwd',
      'not a url',
      '',
    ])
      expect(isPublicHttpsUrl(url)).toBe(false)
  })
})
