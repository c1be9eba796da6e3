import { describe, expect, it } from 'vitest'

import { buildResidentId, checkCharacter, normalizeResidentId, residentIdProblem } from '@/features/accounts/residentId'

const TODAY = new Date(2026, 0, 15)

describe('GB 11643-1999 resident identity numbers', () => {
  it('computes the ISO 7064 MOD 11-2 check character, X for 10', () => {
    expect(checkCharacter('11010519491231002')).toBe('X')
    expect(checkCharacter('44030419900307001')).toBe(buildResidentId('440304', '1990-03-07', 1).slice(-1))
    expect(() => checkCharacter('1234')).toThrow(RangeError)
  })

  it('accepts a valid number, also with a lower-case x and surrounding spaces', () => {
    expect(residentIdProblem('11010519491231002X', TODAY)).toBeNull()
    expect(residentIdProblem(' 11010519491231002x ', TODAY)).toBeNull()
    expect(normalizeResidentId(' 11010519491231002x ')).toBe('11010519491231002X')
    expect(residentIdProblem(buildResidentId('310101', '2015-06-01', 123), TODAY)).toBeNull()
  })

  it('refuses a wrong check character', () => {
    expect(residentIdProblem('110105194912310021', TODAY)).toBe('checksum')
    expect(residentIdProblem('110105194912310028', TODAY)).toBe('checksum')
  })

  it('refuses the wrong shape', () => {
    expect(residentIdProblem('', TODAY)).toBe('required')
    expect(residentIdProblem('11010519491231002', TODAY)).toBe('format')
    expect(residentIdProblem('11010519491231002XX', TODAY)).toBe('format')
    expect(residentIdProblem('1101051949123100X2', TODAY)).toBe('format')
    expect(residentIdProblem('11010519491231002Y', TODAY)).toBe('format')
  })

  it('refuses an unknown region code', () => {
    const first17 = '00010519491231002'
    expect(residentIdProblem(first17 + checkCharacter(first17), TODAY)).toBe('region')
  })

  it('refuses an implausible birth date whose checksum holds', () => {
    const feb30 = '11010519490230002' // 30 February
    expect(residentIdProblem(feb30 + checkCharacter(feb30), TODAY)).toBe('birth_date')
    const future = buildResidentId('110105', '2026-01-16', 2)
    expect(residentIdProblem(future, TODAY)).toBe('birth_date')
    const tooOld = '11010518991231002'
    expect(residentIdProblem(tooOld + checkCharacter(tooOld), TODAY)).toBe('birth_date')
    expect(residentIdProblem(buildResidentId('110105', '2026-01-15', 2), TODAY)).toBeNull()
  })
})
