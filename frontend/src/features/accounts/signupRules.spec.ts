import { describe, expect, it } from 'vitest'

import {
  addressProblem,
  codeProblem,
  displayNameProblem,
  normalizePhone,
  passwordConfirmProblem,
  passwordProblem,
} from '@/features/accounts/signupRules'

describe('sign-up rules (mirroring yunyi/accounts/addresses.py)', () => {
  it('normalises mainland mobile numbers like the server', () => {
    expect(normalizePhone('+86 138-0013-8000')).toBe('13800138000')
    expect(normalizePhone('0086 13800138000')).toBe('13800138000')
    expect(normalizePhone('12800138000')).toBeNull()
    expect(normalizePhone('1380013800')).toBeNull()
  })

  it('checks the address for the chosen channel', () => {
    expect(addressProblem('phone', '')).toBe('register.errors.phoneRequired')
    expect(addressProblem('phone', '13800138000')).toBeNull()
    expect(addressProblem('phone', 'a@b.cn')).toBe('register.errors.phoneInvalid')
    expect(addressProblem('email', ' ')).toBe('register.errors.emailRequired')
    expect(addressProblem('email', 'wang@example.cn')).toBeNull()
    expect(addressProblem('email', 'wang@example')).toBe('register.errors.emailInvalid')
    expect(addressProblem('email', `${'a'.repeat(250)}@b.cn`)).toBe('register.errors.emailInvalid')
  })

  it('checks code, display name and passwords', () => {
    expect(codeProblem(' 123456 ')).toBeNull()
    expect(codeProblem('12345a')).toBe('register.errors.codeInvalid')
    expect(displayNameProblem('  ')).toBe('register.errors.displayNameRequired')
    expect(displayNameProblem('x'.repeat(101))).toBe('register.errors.displayNameTooLong')
    expect(passwordProblem('')).toBe('register.errors.passwordRequired')
    expect(passwordProblem('1234567')).toBe('register.errors.passwordTooShort')
    expect(passwordProblem('12345678')).toBeNull()
    expect(passwordConfirmProblem('a', 'b')).toBe('register.errors.passwordMismatch')
    expect(passwordConfirmProblem('a', 'a')).toBeNull()
  })
})
