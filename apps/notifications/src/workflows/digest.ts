/**
 * Digests: requests for a template that declares one are collected per (template, channel, recipient) while a
 * window is open, then sent as one message. Durable and shared: the members are delivery rows (`digested`, the
 * window's end as their due time), so a restart loses nothing and any instance's poller can close the window;
 * closing records the digest delivery and points every member at it in one transaction, so it is sent once.
 */
import type { ContactStore } from '../contacts/store.ts'
import type { DeliveryRow } from '../db/schema.ts'
import type { DeliveryStore } from '../deliveries/store.ts'
import { derivedId } from '../ids.ts'
import type { ChannelName, TemplateDefinition } from '../templates/model.ts'
import type { TemplateRegistry } from '../templates/registry.ts'

export interface DigestDeps {
  readonly store: DeliveryStore
  readonly registry: TemplateRegistry
  readonly contacts: ContactStore
  /** Replaces every template's window (short windows in tests and demos). */
  readonly windowMs?: number | undefined
  /** Groups closed per run. @defaultValue 100 */
  readonly batch?: number
}

export interface Digests {
  /** Where a new member of `template`'s digest goes: its group, and when the group's window closes. */
  place(
    template: TemplateDefinition,
    channel: ChannelName,
    recipient: string,
  ): Promise<{ digestKey: string; dueAt: number } | undefined>
  /** Closes every window that has ended; resolves to how many digests it recorded. */
  flush(now?: number): Promise<number>
}

export const createDigests = (deps: DigestDeps): Digests => {
  const { store, registry } = deps

  /** The message a closed window sends: the template's own for one member, its digest template for more. */
  const contentOf = async (members: readonly DeliveryRow[], first: DeliveryRow) => {
    const digest = registry.get(first.template)?.digest
    if (members.length === 1 || !digest) return { template: first.template, content: first.content }
    const contact = await deps.contacts.get(first.userId)
    const { messages } = registry.render(digest.template, {
      channels: [first.channel as ChannelName],
      locale: first.locale,
      data: { count: members.length, items: members.map((m) => JSON.parse(m.data ?? '{}') as unknown) },
      recipient: { locale: first.locale, timezone: contact?.timezone ?? undefined },
    })
    return { template: digest.template, content: JSON.stringify(messages[0]) }
  }

  return {
    async place(template, channel, recipient) {
      if (!template.digest) return undefined
      const digestKey = `${template.name}|${channel}|${recipient}`
      const open = await store.openDigest(digestKey)
      return { digestKey, dueAt: open ?? Date.now() + (deps.windowMs ?? template.digest.windowMs) }
    },

    async flush(now = Date.now()) {
      let recorded = 0
      const failures: string[] = []
      for (const digestKey of await store.dueDigests(now, deps.batch ?? 100)) {
        const members = await store.digestMembers(digestKey)
        const first = members[0]
        if (!first) continue
        let closing: Awaited<ReturnType<typeof contentOf>>
        try {
          closing = await contentOf(members, first)
        } catch (error) {
          // Reported (the job logs it) without holding up the other groups.
          failures.push(`${digestKey}: ${(error as Error).message}`)
          continue
        }
        const { template, content } = closing
        const closed = await store.collect(
          {
            id: derivedId(`digest|${first.id}`),
            eventId: `digest:${first.eventId}`,
            eventType: first.eventType,
            channel: first.channel,
            recipient: first.recipient,
            address: first.address,
            userId: first.userId,
            tenantId: first.tenantId,
            correlationId: first.correlationId,
            traceparent: first.traceparent,
            template,
            locale: first.locale,
            category: first.category,
            critical: false,
            content,
            status: 'queued',
            // Sent by the due-time poller, like every delivery that waited.
            dueAt: now,
          },
          members.map((m) => m.id),
        )
        if (closed) recorded++
      }
      if (failures.length > 0) throw new Error(`digests not closed: ${failures.join('; ')}`)
      return recorded
    },
  }
}
