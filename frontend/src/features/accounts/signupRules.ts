/**
 * Client-side checks of the sign-up form, mirroring the server's normalisation
 * (`yunyi/accounts/addresses.py`): mainland mobile numbers (optionally +86 / 0086, spaces or
 * dashes) and e-mail addresses. Each check answers an i18n key or null.
 */
import type { SignupChannel } from '@/shared/api/schemas'

const MOBILE = /^1[3-9][0-9]{9}$/
// A deliberately simple shape check; the server applies Django's EmailValidator.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
export const MAX_EMAIL_LENGTH = 254
export const MIN_PASSWORD_LENGTH = 8
export const MAX_DISPLAY_NAME_LENGTH = 100

export function normalizePhone(value: string): string | null {
  let digits = value.trim().replace(/[\s-]/g, '')
  for (const prefix of ['+86', '0086']) {
    if (digits.startsWith(prefix)) digits = digits.slice(prefix.length)
  }
  return MOBILE.test(digits) ? digits : null
}

export function addressProblem(channel: SignupChannel, address: string): string | null {
  const value = address.trim()
  if (!value) return channel === 'phone' ? 'register.errors.phoneRequired' : 'register.errors.emailRequired'
  if (channel === 'phone') return normalizePhone(value) ? null : 'register.errors.phoneInvalid'
  return value.length <= MAX_EMAIL_LENGTH && EMAIL.test(value) ? null : 'register.errors.emailInvalid'
}

export function codeProblem(code: string): string | null {
  return /^[0-9]{6}$/.test(code.trim()) ? null : 'register.errors.codeInvalid'
}

export function displayNameProblem(name: string): string | null {
  const value = name.trim()
  if (!value) return 'register.errors.displayNameRequired'
  return value.length <= MAX_DISPLAY_NAME_LENGTH ? null : 'register.errors.displayNameTooLong'
}

export function passwordProblem(password: string): string | null {
  if (!password) return 'register.errors.passwordRequired'
  return password.length >= MIN_PASSWORD_LENGTH ? null : 'register.errors.passwordTooShort'
}

export function passwordConfirmProblem(password: string, confirm: string): string | null {
  return password === confirm ? null : 'register.errors.passwordMismatch'
}
