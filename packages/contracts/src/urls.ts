/**
 * URLs that a service will call because an event told it to (push subscription endpoints) must point at the
 * public internet: never loopback, private, link-local (cloud metadata) or `.internal` hosts (SSRF).
 *
 * Two layers use this file: the contract refuses such URLs by their spelling (`isPublicHttpsUrl`, a TypeBox
 * format), and whatever dials them checks every address a name resolves to at connect time
 * (`nonPublicAddressReason`), since a public-looking name can resolve to anything.
 */
import { FormatRegistry } from '@sinclair/typebox'
import ipaddr from 'ipaddr.js'

/** The custom `format` of such URLs, checked by `isPublicHttpsUrl` wherever TypeBox validates. */
export const PUBLIC_HTTPS_URL_FORMAT = 'public-https-url'

/**
 * What a plain regular expression can say of such a URL, for the exported JSON Schemas (which carry no custom
 * format): `https://`, no credentials, no whitespace. The private-host checks need `isPublicHttpsUrl`.
 */
export const PUBLIC_HTTPS_URL_PATTERN = '^https://[^/?#@\\s]+([/?#]\\S*)?$'

const PRIVATE_HOST_SUFFIXES = ['.localhost', '.internal', '.local', '.localdomain', '.home.arpa']

// Every IPv6 address outside 2000::/3 (global unicast) is loopback, unspecified, IPv4-compatible (::/96),
// IPv4-mapped, link-local, unique-local, multicast or not allocated at all.
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3')
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96')

/**
 * Why `address` (an IPv4 or IPv6 literal, without brackets) is not a public unicast address, or undefined
 * when it is one. The reason is ipaddr.js's range name (`loopback`, `private`, `linkLocal`, `uniqueLocal`,
 * `ipv4Mapped`, `carrierGradeNat`, `multicast`, `unspecified`, `reserved`, `rfc6052`, `6to4`, `teredo`…), or
 * `ipv4Compatible`, `notGlobalUnicast`, `invalid`.
 *
 * ipaddr.js (the classifier under Express's `proxy-addr`) knows the IANA special-purpose registries; only
 * what it calls `unicast` passes, and for IPv6 only inside 2000::/3, because it files IPv4-compatible
 * addresses (`::127.0.0.1`) under `unicast`.
 * @example nonPublicAddressReason('::7f00:1') // 'ipv4Compatible'
 */
export const nonPublicAddressReason = (address: string): string | undefined => {
  // Only canonical forms: DNS answers are canonical, and `127.1` or `0x7f.1` is no address a resolver returns.
  const literal = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address
  if (!ipaddr.IPv6.isValid(literal) && !ipaddr.IPv4.isValidFourPartDecimal(literal)) return 'invalid'
  const parsed = ipaddr.parse(literal)
  const range = parsed.range()
  if (parsed.kind() === 'ipv6') {
    if (range !== 'unicast') return range
    if (parsed.match(IPV4_COMPATIBLE)) return 'ipv4Compatible'
    if (!parsed.match(GLOBAL_UNICAST_V6)) return 'notGlobalUnicast'
    return undefined
  }
  return range === 'unicast' ? undefined : range
}

/** True for a public unicast IPv4 or IPv6 address (see `nonPublicAddressReason`). */
export const isPublicAddress = (address: string): boolean => nonPublicAddressReason(address) === undefined

/**
 * True for an `https:` URL without credentials whose host is a public name or address. The WHATWG URL parser
 * has already normalised odd IPv4 spellings (`127.1`, `2130706433`, `0x7f.1`) to dotted quads and IPv6 to its
 * compressed form (`[::127.0.0.1]` → `[::7f00:1]`). Names are not resolved here: the dialler checks the
 * addresses a name resolves to when it connects.
 */
export const isPublicHttpsUrl = (value: string): boolean => {
  if (!URL.canParse(value)) return false
  const url = new URL(value)
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') return false
  if (url.hostname.startsWith('[')) return isPublicAddress(url.hostname)
  // One trailing dot is the root of a fully qualified name; any other empty label (`localhost..`) is junk.
  const host = url.hostname.toLowerCase().replace(/\.$/, '')
  const labels = host.split('.')
  if (labels.some((label) => label === '')) return false
  if (host === 'localhost' || PRIVATE_HOST_SUFFIXES.some((s) => host.endsWith(s))) return false
  if (ipaddr.IPv4.isValidFourPartDecimal(host)) return isPublicAddress(host)
  // A single-label name (`metadata`, `redis`) only resolves on a private network.
  return labels.length > 1
}

if (!FormatRegistry.Has(PUBLIC_HTTPS_URL_FORMAT))
  FormatRegistry.Set(PUBLIC_HTTPS_URL_FORMAT, isPublicHttpsUrl)
