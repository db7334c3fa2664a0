/**
 * An HTTPS agent that dials public addresses only, for URLs that come from event data (push endpoints).
 * The check runs at connect time on the addresses the name resolved to, and the socket connects to exactly
 * those checked addresses (they are handed to the socket as its lookup result), so a name that resolves to
 * a public address for the check and to a private one a moment later (DNS rebinding) cannot swap it.
 */
import { lookup as dnsLookup } from 'node:dns/promises'
import { Agent, type AgentOptions } from 'node:https'
import type { LookupFunction, Socket } from 'node:net'
import { isIP } from 'node:net'
import type { Duplex } from 'node:stream'
import { nonPublicAddressReason } from '@flotilla/contracts'

/** Node's error code on a connection this agent refused. */
export const ADDRESS_REFUSED = 'ERR_ADDRESS_REFUSED'

export interface ResolvedAddress {
  readonly address: string
  readonly family: number
}

/** Resolves a host name to every address it has (`dns.lookup` with `all: true` by default). */
export type Resolve = (hostname: string) => Promise<readonly ResolvedAddress[]>

export interface PublicAgentOptions {
  /** Extra certificates to trust (PEM): tests' local push service. */
  readonly ca?: string
  /**
   * Dial loopback, private, link-local and every other non-public address too. Only tests with a local push
   * service set it: otherwise data could make this service call inside the network (SSRF). @defaultValue false
   */
  readonly allowPrivateAddresses?: boolean
  /** @defaultValue `dns.lookup(hostname, { all: true })` */
  readonly resolve?: Resolve
}

/** Why a connection was refused: `code` is `ERR_ADDRESS_REFUSED`, `reason` the address's range. */
class AddressRefusedError extends Error {
  readonly code = ADDRESS_REFUSED
  override readonly name = 'AddressRefusedError'
  constructor(
    readonly host: string,
    readonly address: string,
    readonly reason: string,
  ) {
    super(`refused to connect to ${host}: ${address} is not a public address (${reason})`)
  }
}

const systemResolve: Resolve = (hostname) => dnsLookup(hostname, { all: true, verbatim: true })

/** The first address that is not public, with its reason. */
const firstRefused = (addresses: readonly ResolvedAddress[]) => {
  for (const { address } of addresses) {
    const reason = nonPublicAddressReason(address)
    if (reason !== undefined) return { address, reason }
  }
  return undefined
}

/**
 * Creates the agent. A name whose addresses include any non-public one is refused whole (a mixed answer is
 * how rebinding hides), as is an address literal that is not public.
 * @example webpush.sendNotification(subscription, payload, { agent: createPublicAgent() })
 */
export const createPublicAgent = (options: PublicAgentOptions = {}): Agent => {
  const resolve = options.resolve ?? systemResolve
  const allowPrivate = options.allowPrivateAddresses === true
  // Node's `net.connect` lookup contract: with `all`, every address; otherwise the first.
  const guardedLookup =
    (host: string): LookupFunction =>
    (hostname, lookupOptions, callback) => {
      resolve(hostname).then(
        (found) => {
          const wanted = lookupOptions.family
            ? found.filter((a) => a.family === lookupOptions.family)
            : [...found]
          const refused = allowPrivate ? undefined : firstRefused(found)
          if (refused) return callback(new AddressRefusedError(host, refused.address, refused.reason), '', 0)
          const first = wanted[0]
          if (!first) {
            const error = Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' })
            return callback(error, '', 0)
          }
          if (lookupOptions.all) return (callback as (e: null, a: ResolvedAddress[]) => void)(null, wanted)
          callback(null, first.address, first.family)
        },
        (error: NodeJS.ErrnoException) => callback(error, '', 0),
      )
    }

  class PublicAgent extends Agent {
    override createConnection(
      connectOptions: { host?: string | null; hostname?: string | null } & Record<string, unknown>,
      callback?: (error: Error | null, socket: Duplex) => void,
    ): Duplex | null | undefined {
      const host = String(connectOptions.host ?? connectOptions.hostname ?? '').replace(/^\[(.*)\]$/, '$1')
      if (isIP(host) !== 0) {
        // An address literal is never looked up: check it here.
        const reason = allowPrivate ? undefined : nonPublicAddressReason(host)
        if (reason !== undefined) {
          callback?.(new AddressRefusedError(host, host, reason), undefined as unknown as Socket)
          return undefined
        }
        return super.createConnection(connectOptions, callback)
      }
      return super.createConnection({ ...connectOptions, lookup: guardedLookup(host) }, callback)
    }
  }

  const agentOptions: AgentOptions = options.ca ? { ca: options.ca } : {}
  return new PublicAgent(agentOptions)
}
