/**
 * URLs that a service will call because an event told it to (push subscription endpoints) must point at the
 * public internet: never loopback, private, link-local (cloud metadata) or `.internal` hosts (SSRF).
 */
import { FormatRegistry } from '@sinclair/typebox'

/** The custom `format` of such URLs, checked by `isPublicHttpsUrl` wherever TypeBox validates. */
export const PUBLIC_HTTPS_URL_FORMAT = 'public-https-url'

/**
 * What a plain regular expression can say of such a URL, for the exported JSON Schemas (which carry no custom
 * format): `https://`, no credentials, no whitespace. The private-host checks need `isPublicHttpsUrl`.
 */
export const PUBLIC_HTTPS_URL_PATTERN = '^https://[^/?#@\\s]+([/?#]\\S*)?$'

const PRIVATE_HOST_SUFFIXES = ['.localhost', '.internal', '.local', '.localdomain', '.home.arpa']

// IPv4 ranges that are not the public internet (RFC 6890): this network, private, shared, loopback,
// link-local, IETF, benchmarking, multicast and reserved.
const privateIpv4 = (a: number, b: number): boolean =>
  a === 0 ||
  a === 10 ||
  a === 127 ||
  (a === 100 && b >= 64 && b <= 127) ||
  (a === 169 && b === 254) ||
  (a === 172 && b >= 16 && b <= 31) ||
  (a === 192 && b === 168) ||
  (a === 192 && b === 0) ||
  (a === 198 && (b === 18 || b === 19)) ||
  a >= 224

// IPv6: unspecified, loopback, IPv4-mapped / translated (they reach IPv4 hosts), unique-local, link-local.
const privateIpv6 = (host: string): boolean =>
  host === '::' ||
  host === '::1' ||
  host.startsWith('::ffff:') ||
  host.startsWith('64:ff9b:') ||
  /^f[cd]/.test(host) ||
  /^fe[89ab]/.test(host)

/**
 * True for an `https:` URL without credentials whose host is a public name or address. The WHATWG URL parser
 * has already normalised odd IPv4 spellings (`127.1`, `2130706433`, `0x7f.1`) to dotted quads.
 * Names are not resolved here: a public name that resolves to a private address is the sender's concern.
 */
export const isPublicHttpsUrl = (value: string): boolean => {
  if (!URL.canParse(value)) return false
  const url = new URL(value)
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') return false
  const host = url.hostname.toLowerCase().replace(/\.$/, '')
  if (host === '' || host === 'localhost' || PRIVATE_HOST_SUFFIXES.some((s) => host.endsWith(s))) return false
  if (host.startsWith('[')) return !privateIpv6(host.slice(1, -1))
  const quad = host.match(/^(\d+)\.(\d+)\.(\d+)\.(\d+)$/)
  if (quad) return !privateIpv4(Number(quad[1]), Number(quad[2]))
  // A single-label name (`metadata`, `redis`) only resolves on a private network.
  return host.includes('.')
}

if (!FormatRegistry.Has(PUBLIC_HTTPS_URL_FORMAT))
  FormatRegistry.Set(PUBLIC_HTTPS_URL_FORMAT, isPublicHttpsUrl)
