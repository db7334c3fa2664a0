/** `new-sign-in`: a sign-in from a device not seen before (rule on `auth.device.added`). */
import { Type } from '@sinclair/typebox'
import type { TemplateDefinition } from '../model.ts'

export const newSignIn: TemplateDefinition = {
  name: 'new-sign-in',
  description: 'A sign-in from a new device',
  category: 'security',
  defaultChannels: ['email'],
  // A burst of sign-ins within 10 minutes is one message listing them (NOTIFICATIONS_DIGEST_WINDOW_MS overrides).
  digest: { template: 'new-sign-in-digest', windowMs: 10 * 60_000 },
  variables: Type.Object({
    at: Type.String({ description: 'ISO-8601 time of the sign-in' }),
    deviceName: Type.Optional(Type.String({ maxLength: 200 })),
    userAgent: Type.Optional(Type.String({ maxLength: 1000 })),
    ip: Type.Optional(Type.String({ maxLength: 45 })),
  }),
  locales: {
    en: {
      email: {
        subject: 'New sign-in to your {{ app.name }} account',
        html: '<p>Your account was signed in to from a new device on {{ at | local_time: recipient.timezone, recipient.locale }}.</p><ul>{% if deviceName %}<li>Device: {{ deviceName }}</li>{% endif %}{% if userAgent %}<li>Browser: {{ userAgent }}</li>{% endif %}{% if ip %}<li>IP address: {{ ip }}</li>{% endif %}</ul><p>If this was not you, sign out of all devices and change your password.</p>',
        text: 'Your account was signed in to from a new device on {{ at | local_time: recipient.timezone, recipient.locale }}.\n{% if deviceName %}Device: {{ deviceName }}\n{% endif %}{% if userAgent %}Browser: {{ userAgent }}\n{% endif %}{% if ip %}IP address: {{ ip }}\n{% endif %}\nIf this was not you, sign out of all devices and change your password.\n',
      },
      push: {
        title: 'New sign-in',
        body: 'A new device{% if deviceName %} ({{ deviceName }}){% endif %} signed in to your account.',
      },
    },
    fr: {
      email: {
        subject: 'Nouvelle connexion à votre compte {{ app.name }}',
        html: '<p>Une connexion à votre compte depuis un nouvel appareil a eu lieu le {{ at | local_time: recipient.timezone, recipient.locale }}.</p><ul>{% if deviceName %}<li>Appareil : {{ deviceName }}</li>{% endif %}{% if userAgent %}<li>Navigateur : {{ userAgent }}</li>{% endif %}{% if ip %}<li>Adresse IP : {{ ip }}</li>{% endif %}</ul><p>Si ce n’était pas vous, déconnectez tous vos appareils et changez votre mot de passe.</p>',
        text: 'Une connexion à votre compte depuis un nouvel appareil a eu lieu le {{ at | local_time: recipient.timezone, recipient.locale }}.\n{% if deviceName %}Appareil : {{ deviceName }}\n{% endif %}{% if userAgent %}Navigateur : {{ userAgent }}\n{% endif %}{% if ip %}Adresse IP : {{ ip }}\n{% endif %}\nSi ce n’était pas vous, déconnectez tous vos appareils et changez votre mot de passe.\n',
      },
      push: {
        title: 'Nouvelle connexion',
        body: 'Un nouvel appareil{% if deviceName %} ({{ deviceName }}){% endif %} s’est connecté à votre compte.',
      },
    },
  },
}
