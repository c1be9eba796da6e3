import { describe, expect, it } from 'vitest'

import { ageFromBirthDate, findDoctorLink, toggleSymptom, triageRequest, urgencyType } from '@/features/diagnosis/triage'
import type { TriageResult } from '@/features/diagnosis/types'

function result(overrides: Partial<TriageResult>): TriageResult {
  return {
    urgency: 'routine',
    urgency_label: { en: 'Routine', zh: '常规' },
    red_flag: false,
    reasons: [],
    departments: [{ code: 'neurology', label: { en: 'Neurology', zh: '神经内科' } }],
    ...overrides,
  }
}

describe('symptom check', () => {
  it('ticks a symptom with default answers and unticks it', () => {
    const one = toggleSymptom([], 'headache')
    expect(one).toEqual([{ code: 'headache', duration: 'under_1_day', severity: 'moderate' }])
    expect(toggleSymptom(one, 'headache')).toEqual([])
  })

  it('builds the request without sharing the chosen objects', () => {
    const chosen = [{ code: 'fever', duration: '1_2_days', severity: 'mild' }]
    const request = triageRequest(chosen, 30, 'female')
    expect(request).toEqual({ symptoms: chosen, age: 30, sex: 'female' })
    expect(request.symptoms[0]).not.toBe(chosen[0])
  })

  it('computes whole years from a birth date', () => {
    const today = new Date(2026, 10, 26)
    expect(ageFromBirthDate('1985-03-12', today)).toBe(41)
    expect(ageFromBirthDate('1985-11-27', today)).toBe(40)
    expect(ageFromBirthDate('1985-11-26', today)).toBe(41)
    expect(ageFromBirthDate('2030-01-01', today)).toBeNull()
    expect(ageFromBirthDate('garbage', today)).toBeNull()
    expect(ageFromBirthDate(null, today)).toBeNull()
  })

  it('links to the doctor search in the first department, never for an emergency', () => {
    expect(findDoctorLink(result({}))).toBe('/find-doctor?department=neurology')
    expect(findDoctorLink(result({ departments: [] }))).toBe('/find-doctor')
    expect(findDoctorLink(result({ urgency: 'emergency' }))).toBeNull()
    // Each suggested department links to its own doctors.
    expect(findDoctorLink(result({}), 'ear nose')).toBe('/find-doctor?department=ear%20nose')
    expect(findDoctorLink(result({ urgency: 'emergency' }), 'neurology')).toBeNull()
  })

  it('colours urgencies from red to green', () => {
    expect((['emergency', 'within_24h', 'routine', 'self_care'] as const).map(urgencyType)).toEqual(['danger', 'warning', 'primary', 'success'])
  })
})
