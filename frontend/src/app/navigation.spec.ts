import { describe, expect, it } from 'vitest'

import { navItemsForRoles } from '@/app/navigation'

function summary(roles: string[]) {
  return navItemsForRoles(roles).map((item) => [item.key, item.to ?? item.href ?? null, item.comingSoon])
}

describe('navigation by role', () => {
  it('gives a patient home, their record, the symptom check and the doctor search', () => {
    expect(summary(['patient'])).toEqual([
      ['home', '/', false],
      ['records', '/record', false],
      ['symptom-check', '/symptom-check', false],
      ['find-doctor', '/find-doctor', false],
    ])
  })

  it('gives a guardian the record page (for wards) and the wards section', () => {
    expect(summary(['guardian'])).toEqual([
      ['home', '/', false],
      ['records', '/record', false],
      ['symptom-check', '/symptom-check', false],
      ['wards', '/profile#wards', false],
    ])
  })

  it('gives a doctor their patients and the workbench, a pharmacist prescription review, an operator rentals', () => {
    expect(summary(['doctor'])).toEqual([
      ['home', '/', false],
      ['patients', '/patients', false],
      ['practice', '/practice', false],
      ['workbench', null, true],
    ])
    expect(summary(['pharmacist'])).toEqual([['home', '/', false], ['rx-review', null, true]])
    expect(summary(['operator'])).toEqual([
      ['home', '/', false],
      ['assignment', '/operations/assignment', false],
      ['regions', '/operations/regions', false],
      ['rentals', null, true],
    ])
  })

  it('links an admin to the Django admin site', () => {
    expect(summary(['admin'])).toEqual([
      ['home', '/', false],
      ['model-registry', '/model-registry', false],
      ['licence-review', '/licence-review', false],
      ['assignment', '/operations/assignment', false],
      ['regions', '/operations/regions', false],
      ['admin', '/admin/', false],
    ])
  })

  it('combines roles in a fixed order without duplicates', () => {
    expect(summary(['admin', 'patient', 'guardian', 'patient']).map(([key]) => key)).toEqual([
      'home',
      'records',
      'symptom-check',
      'find-doctor',
      'wards',
      'model-registry',
      'licence-review',
      'assignment',
      'regions',
      'admin',
    ])
  })

  it('never offers a link for a capability that is not built yet', () => {
    const all = navItemsForRoles(['patient', 'guardian', 'doctor', 'pharmacist', 'operator', 'admin'])
    for (const item of all) {
      if (item.comingSoon) expect([item.to, item.href]).toEqual([undefined, undefined])
      else expect(item.to ?? item.href).toBeTruthy()
    }
  })

  it('ignores unknown roles', () => {
    expect(summary(['superhero'])).toEqual([['home', '/', false]])
  })
})
