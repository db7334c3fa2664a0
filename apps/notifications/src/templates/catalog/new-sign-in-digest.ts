/** `new-sign-in-digest`: the sign-ins from new devices collected in one digest window (see `new-sign-in`). */
import { Type } from '@sinclair/typebox'
import type { TemplateDefinition } from '../model.ts'

const Item = Type.Object({
  at: Type.String({ description: 'ISO-8601 time of the sign-in' }),
  deviceName: Type.Optional(Type.String({ maxLength: 200 })),
  userAgent: Type.Optional(Type.String({ maxLength: 1000 })),
  ip: Type.Optional(Type.String({ maxLength: 45 })),
})

const LINE =
  '{{ item.at | local_time: recipient.timezone, recipient.locale }}{% if item.deviceName %} — {{ item.deviceName }}{% endif %}{% if item.ip %} ({{ item.ip }}){% endif %}'

export const newSignInDigest: TemplateDefinition = {
  name: 'new-sign-in-digest',
  description: 'Several sign-ins from new devices, in one message (the digest of new-sign-in)',
  category: 'security',
  defaultChannels: ['email'],
  variables: Type.Object({
    count: Type.Integer({ minimum: 1, description: 'how many sign-ins the digest collected' }),
    items: Type.Array(Item, { description: 'each collected sign-in, oldest first' }),
  }),
  locales: {
    en: {
      email: {
        subject: '{{ count }} new sign-ins to your {{ app.name }} account',
        html: `<p>Your account was signed in to from {{ count }} new devices:</p><ul>{% for item in items %}<li>${LINE}</li>{% endfor %}</ul><p>If one of these was not you, sign out of all devices and change your password.</p>`,
        text: `Your account was signed in to from {{ count }} new devices:\n{% for item in items %}- ${LINE}\n{% endfor %}\nIf one of these was not you, sign out of all devices and change your password.\n`,
      },
      push: { title: '{{ count }} new sign-ins', body: '{{ count }} new devices signed in to your account.' },
    },
    fr: {
      email: {
        subject: '{{ count }} nouvelles connexions à votre compte {{ app.name }}',
        html: `<p>Votre compte a été utilisé depuis {{ count }} nouveaux appareils :</p><ul>{% for item in items %}<li>${LINE}</li>{% endfor %}</ul><p>Si l’une de ces connexions n’était pas vous, déconnectez tous vos appareils et changez votre mot de passe.</p>`,
        text: `Votre compte a été utilisé depuis {{ count }} nouveaux appareils :\n{% for item in items %}- ${LINE}\n{% endfor %}\nSi l’une de ces connexions n’était pas vous, déconnectez tous vos appareils et changez votre mot de passe.\n`,
      },
      push: {
        title: '{{ count }} nouvelles connexions',
        body: '{{ count }} nouveaux appareils se sont connectés à votre compte.',
      },
    },
  },
}
