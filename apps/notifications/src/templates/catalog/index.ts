/** The templates this service ships. */
import type { TemplateDefinition } from '../model.ts'
import { newSignIn } from './new-sign-in.ts'
import { newSignInDigest } from './new-sign-in-digest.ts'
import { passwordReset } from './password-reset.ts'
import { securityAlert } from './security-alert.ts'
import { welcome } from './welcome.ts'

export const SHIPPED_TEMPLATES: readonly TemplateDefinition[] = [
  welcome,
  newSignIn,
  newSignInDigest,
  securityAlert,
  passwordReset,
]
