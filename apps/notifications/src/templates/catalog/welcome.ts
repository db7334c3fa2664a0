/** `welcome`: sent when a user registers (rule on `user.registered`). */
import { Type } from '@sinclair/typebox'
import type { TemplateDefinition } from '../model.ts'

export const welcome: TemplateDefinition = {
  name: 'welcome',
  description: 'Welcome message after registration',
  category: 'account',
  defaultChannels: ['email'],
  variables: Type.Object({ name: Type.Optional(Type.String({ maxLength: 200 })) }),
  locales: {
    en: {
      email: {
        subject: 'Welcome to {{ app.name }}',
        html: '<p>Hello{% if name %} {{ name }}{% endif %},</p><p>Welcome to {{ app.name }}. Your account is ready.</p><p><a href="{{ app.url }}">Open {{ app.name }}</a></p>',
        text: 'Hello{% if name %} {{ name }}{% endif %},\n\nWelcome to {{ app.name }}. Your account is ready: {{ app.url }}\n',
      },
      sms: { text: 'Welcome to {{ app.name }}{% if name %}, {{ name }}{% endif %}!' },
      push: { title: 'Welcome to {{ app.name }}', body: 'Your account is ready.' },
    },
    fr: {
      email: {
        subject: 'Bienvenue sur {{ app.name }}',
        html: '<p>Bonjour{% if name %} {{ name }}{% endif %},</p><p>Bienvenue sur {{ app.name }}. Votre compte est prêt.</p><p><a href="{{ app.url }}">Ouvrir {{ app.name }}</a></p>',
        text: 'Bonjour{% if name %} {{ name }}{% endif %},\n\nBienvenue sur {{ app.name }}. Votre compte est prêt : {{ app.url }}\n',
      },
      sms: { text: 'Bienvenue sur {{ app.name }}{% if name %}, {{ name }}{% endif %} !' },
      push: { title: 'Bienvenue sur {{ app.name }}', body: 'Votre compte est prêt.' },
    },
  },
}
