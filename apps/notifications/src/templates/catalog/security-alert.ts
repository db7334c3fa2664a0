/** `security-alert`: critical — a spent refresh token was reused (rule on `auth.refresh.reused`). */
import { Type } from '@sinclair/typebox'
import type { TemplateDefinition } from '../model.ts'

export const securityAlert: TemplateDefinition = {
  name: 'security-alert',
  description: 'Critical security alert: a session was revoked after a stolen token was used',
  category: 'security',
  critical: true,
  defaultChannels: ['email', 'sms'],
  variables: Type.Object({
    at: Type.String({ description: 'ISO-8601 time of the event' }),
    ip: Type.Optional(Type.String({ maxLength: 45 })),
    userAgent: Type.Optional(Type.String({ maxLength: 1000 })),
  }),
  locales: {
    en: {
      email: {
        subject: 'Security alert: we signed you out of {{ app.name }}',
        html: '<p><strong>We noticed a suspicious use of your session</strong> on {{ at | local_time: recipient.timezone, recipient.locale }}{% if ip %} from {{ ip }}{% endif %}.</p><p>To protect you we ended that session. Please sign in again and change your password.</p>',
        text: 'We noticed a suspicious use of your session on {{ at | local_time: recipient.timezone, recipient.locale }}{% if ip %} from {{ ip }}{% endif %}.\nTo protect you we ended that session. Please sign in again and change your password.\n',
      },
      sms: {
        text: '{{ app.name }} security alert: suspicious use of your session{% if ip %} from {{ ip }}{% endif %}. We signed you out; please change your password.',
      },
      push: { title: 'Security alert', body: 'We signed you out after a suspicious use of your session.' },
    },
    fr: {
      email: {
        subject: 'Alerte de sécurité : nous vous avons déconnecté de {{ app.name }}',
        html: '<p><strong>Nous avons remarqué une utilisation suspecte de votre session</strong> le {{ at | local_time: recipient.timezone, recipient.locale }}{% if ip %} depuis {{ ip }}{% endif %}.</p><p>Pour vous protéger, nous avons fermé cette session. Reconnectez-vous et changez votre mot de passe.</p>',
        text: 'Nous avons remarqué une utilisation suspecte de votre session le {{ at | local_time: recipient.timezone, recipient.locale }}{% if ip %} depuis {{ ip }}{% endif %}.\nPour vous protéger, nous avons fermé cette session. Reconnectez-vous et changez votre mot de passe.\n',
      },
      sms: {
        text: 'Alerte {{ app.name }} : utilisation suspecte de votre session{% if ip %} depuis {{ ip }}{% endif %}. Vous avez été déconnecté ; changez votre mot de passe.',
      },
      push: {
        title: 'Alerte de sécurité',
        body: 'Nous vous avons déconnecté après une utilisation suspecte de votre session.',
      },
    },
  },
}
