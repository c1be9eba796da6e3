/**
 * The header's navigation for a user's roles. Capabilities that do not exist yet are listed as
 * "coming soon" (shown disabled, never a dead link).
 */

export interface NavItem {
  key: string
  /** i18n key of the label. */
  label: string
  /** In-app route path. */
  to?: string
  /** Server page outside the SPA (Django admin). */
  href?: string
  comingSoon: boolean
}

const HOME: NavItem = { key: 'home', label: 'nav.home', to: '/', comingSoon: false }

const RECORDS: NavItem = { key: 'records', label: 'nav.records', to: '/record', comingSoon: false }

const SYMPTOM_CHECK: NavItem = {
  key: 'symptom-check',
  label: 'diagnosis.nav.symptomCheck',
  to: '/symptom-check',
  comingSoon: false,
}

const ASSIGNMENT: NavItem = {
  key: 'assignment',
  label: 'matching.nav.assignment',
  to: '/operations/assignment',
  comingSoon: false,
}

const REGIONS: NavItem = { key: 'regions', label: 'matching.nav.regions', to: '/operations/regions', comingSoon: false }

const BY_ROLE: Record<string, NavItem[]> = {
  patient: [
    RECORDS,
    SYMPTOM_CHECK,
    { key: 'find-doctor', label: 'nav.findDoctor', to: '/find-doctor', comingSoon: false },
  ],
  // A guardian reads their wards' records on the same page.
  guardian: [RECORDS, SYMPTOM_CHECK, { key: 'wards', label: 'nav.wards', to: '/profile#wards', comingSoon: false }],
  doctor: [
    { key: 'patients', label: 'nav.patients', to: '/patients', comingSoon: false },
    { key: 'practice', label: 'practitioners.nav.practice', to: '/practice', comingSoon: false },
    { key: 'workbench', label: 'nav.workbench', comingSoon: true },
  ],
  pharmacist: [{ key: 'rx-review', label: 'nav.rxReview', comingSoon: true }],
  // What works comes first; what is still to come goes last.
  operator: [ASSIGNMENT, REGIONS, { key: 'rentals', label: 'nav.rentals', comingSoon: true }],
  admin: [
    { key: 'model-registry', label: 'diagnosis.nav.modelRegistry', to: '/model-registry', comingSoon: false },
    { key: 'licence-review', label: 'practitioners.nav.licenceReview', to: '/licence-review', comingSoon: false },
    ASSIGNMENT,
    REGIONS,
    { key: 'admin', label: 'nav.admin', href: '/admin/', comingSoon: false },
  ],
}

const ROLE_ORDER = ['patient', 'guardian', 'doctor', 'pharmacist', 'operator', 'admin']

export function navItemsForRoles(roles: readonly string[]): NavItem[] {
  const items = [HOME]
  const seen = new Set([HOME.key])
  for (const role of ROLE_ORDER) {
    if (!roles.includes(role)) continue
    for (const item of BY_ROLE[role] ?? []) {
      if (!seen.has(item.key)) {
        seen.add(item.key)
        items.push(item)
      }
    }
  }
  return items
}
