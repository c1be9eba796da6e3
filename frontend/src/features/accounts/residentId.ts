/**
 * Resident identity numbers (居民身份号码), GB 11643-1999: the client-side mirror of the server's
 * rule (`yunyi/accounts/resident_id.py`), so mistakes show before anything is sent. The server
 * stays the authority.
 *
 * 6-digit address code, 8-digit birth date YYYYMMDD, 3-digit sequence, and a check character
 * computed with ISO 7064 MOD 11-2 over the first 17 digits ('X' stands for 10).
 */

/** W_i = 2^(i-1) mod 11 for positions 18..2 (GB 11643-1999 §8.2). */
const WEIGHTS = Array.from({ length: 17 }, (_, i) => 2 ** (17 - i) % 11)
const CHECK_CHARS = '10X98765432'
const SHAPE = /^[0-9]{17}[0-9X]$/
/** Provinces of GB/T 2260, 81-83 (HK/Macao/Taiwan residence permits), 9x (foreigners' cards). */
const REGION_PREFIXES = new Set([
  '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65',
  '71', '81', '82', '83', '90', '91', '92', '93', '94', '95', '96', '97', '98', '99',
])
export const EARLIEST_BIRTH_YEAR = 1900

export type ResidentIdProblem = 'required' | 'format' | 'region' | 'checksum' | 'birth_date'

export function normalizeResidentId(value: string): string {
  return value.trim().toUpperCase()
}

export function checkCharacter(first17: string): string {
  if (!/^[0-9]{17}$/.test(first17)) throw new RangeError('expected 17 digits')
  let total = 0
  for (let i = 0; i < 17; i += 1) total += Number(first17[i]) * (WEIGHTS[i] ?? 0)
  return CHECK_CHARS[total % 11] ?? ''
}

function localDate(year: number, month: number, day: number): Date | null {
  const date = new Date(year, month - 1, day)
  const real = date.getFullYear() === year && date.getMonth() === month - 1 && date.getDate() === day
  return real ? date : null
}

/** The first problem with `value`, or null when the number is acceptable. */
export function residentIdProblem(value: string, today: Date = new Date()): ResidentIdProblem | null {
  const number = normalizeResidentId(value)
  if (!number) return 'required'
  if (!SHAPE.test(number)) return 'format'
  if (!REGION_PREFIXES.has(number.slice(0, 2))) return 'region'
  if (checkCharacter(number.slice(0, 17)) !== number[17]) return 'checksum'
  const born = localDate(Number(number.slice(6, 10)), Number(number.slice(10, 12)), Number(number.slice(12, 14)))
  const endOfToday = new Date(today.getFullYear(), today.getMonth(), today.getDate())
  if (!born || born.getFullYear() < EARLIEST_BIRTH_YEAR || born > endOfToday) return 'birth_date'
  return null
}

/** A well-formed number for a region, birth date and sequence (tests and examples). */
export function buildResidentId(regionCode: string, birthDate: string, sequence: number): string {
  const first17 = `${regionCode}${birthDate.replace(/-/g, '')}${String(sequence).padStart(3, '0')}`
  return first17 + checkCharacter(first17)
}
