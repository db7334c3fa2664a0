/** `password-reset`: a reset link, requested by the monolith with `notification.requested`. */
import { Type } from '@sinclair/typebox'
import type { TemplateDefinition } from '../model.ts'

export const passwordReset: TemplateDefinition = {
  name: 'password-reset',
  description: 'Password reset link',
  category: 'account',
  defaultChannels: ['email'],
  variables: Type.Object({
    resetUrl: Type.String({ pattern: '^https?://', maxLength: 2000 }),
    expiresInMinutes: Type.Integer({ minimum: 1, maximum: 10_080 }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
  }),
  locales: {
    en: {
      email: {
        subject: 'Reset your {{ app.name }} password',
        html: '<p>Hello{% if name %} {{ name }}{% endif %},</p><p>Someone asked to reset your password. The link below works for {{ expiresInMinutes }} minutes.</p><p><a href="{{ resetUrl }}">Choose a new password</a></p><p>If you did not ask for this, ignore this email.</p>',
        text: 'Hello{% if name %} {{ name }}{% endif %},\n\nSomeone asked to reset your password. This link works for {{ expiresInMinutes }} minutes:\n{{ resetUrl }}\n\nIf you did not ask for this, ignore this email.\n',
      },
      sms: { text: 'Your {{ app.name }} password reset link ({{ expiresInMinutes }} min): {{ resetUrl }}' },
    },
    fr: {
      email: {
        subject: 'Réinitialisez votre mot de passe {{ app.name }}',
        html: '<p>Bonjour{% if name %} {{ name }}{% endif %},</p><p>Une réinitialisation de votre mot de passe a été demandée. Le lien ci-dessous est valable {{ expiresInMinutes }} minutes.</p><p><a href="{{ resetUrl }}">Choisir un nouveau mot de passe</a></p><p>Si vous n’êtes pas à l’origine de cette demande, ignorez cet e-mail.</p>',
        text: 'Bonjour{% if name %} {{ name }}{% endif %},\n\nUne réinitialisation de votre mot de passe a été demandée. Ce lien est valable {{ expiresInMinutes }} minutes :\n{{ resetUrl }}\n\nSi vous n’êtes pas à l’origine de cette demande, ignorez cet e-mail.\n',
      },
      sms: {
        text: 'Lien de réinitialisation {{ app.name }} ({{ expiresInMinutes }} min) : {{ resetUrl }}',
      },
    },
  },
}
