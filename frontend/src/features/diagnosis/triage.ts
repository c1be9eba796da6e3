/** Pure logic of the symptom check: the chosen symptoms, the request, and where to go next. */
import type { TriageRequest, TriageResult } from '@/features/diagnosis/types'

export interface ChosenSymptom {
  code: string
  duration: string
  severity: string
}

export const DEFAULT_DURATION = 'under_1_day'
export const DEFAULT_SEVERITY = 'moderate'

/** The chosen list after ticking or unticking `code` (new ones get the default answers). */
export function toggleSymptom(chosen: readonly ChosenSymptom[], code: string): ChosenSymptom[] {
  if (chosen.some((s) => s.code === code)) return chosen.filter((s) => s.code !== code)
  return [...chosen, { code, duration: DEFAULT_DURATION, severity: DEFAULT_SEVERITY }]
}

export function triageRequest(chosen: readonly ChosenSymptom[], age: number, sex: string): TriageRequest {
  return { symptoms: chosen.map((s) => ({ ...s })), age, sex }
}

/** Whole years on `today` for a birth date (yyyy-mm-dd); null when unknown or in the future. */
export function ageFromBirthDate(birthDate: string | null | undefined, today: Date = new Date()): number | null {
  if (!birthDate || !/^\d{4}-\d{2}-\d{2}$/.test(birthDate)) return null
  const [year = 0, month = 0, day = 0] = birthDate.split('-').map(Number)
  let age = today.getFullYear() - year
  if (today.getMonth() + 1 < month || (today.getMonth() + 1 === month && today.getDate() < day)) age -= 1
  return age >= 0 ? age : null
}

export function urgencyType(urgency: TriageResult['urgency']): 'danger' | 'warning' | 'primary' | 'success' {
  return { emergency: 'danger', within_24h: 'warning', routine: 'primary', self_care: 'success' }[urgency] as
    | 'danger'
    | 'warning'
    | 'primary'
    | 'success'
}

/** The doctor-matching page for the first suggested department (none for an emergency). */
export function findDoctorLink(result: TriageResult, department = result.departments[0]?.code): string | null {
  if (result.urgency === 'emergency') return null
  return department ? `/find-doctor?department=${encodeURIComponent(department)}` : '/find-doctor'
}
