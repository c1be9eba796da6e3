/** Pure helpers of the suggestions panel and the model registry: labels, percentages, bands. */
import type { Interval, Label, Suggestion } from '@/features/diagnosis/types'

/** The label in the UI's language (zh-CN shows Chinese, anything else English). */
export function localized(label: Label, locale: string): string {
  return locale.startsWith('zh') ? label.zh : label.en
}

export function percent(probability: number | null | undefined, digits = 0): string {
  if (probability === null || probability === undefined || !Number.isFinite(probability)) return '–'
  return `${(probability * 100).toFixed(digits)}%`
}

/** "0.81 (0.74–0.87)": a metric with its 95% interval. */
export function withInterval(interval: Interval | undefined, digits = 2): string {
  if (!interval || interval.value === null) return '–'
  const value = interval.value.toFixed(digits)
  if (interval.low === null || interval.high === null) return value
  return `${value} (${interval.low.toFixed(digits)}–${interval.high.toFixed(digits)})`
}

/** Element Plus colour of a risk band. */
export function bandType(band: Suggestion['risk_band']): 'danger' | 'warning' | 'success' | 'info' {
  if (band === 'high') return 'danger'
  if (band === 'intermediate') return 'warning'
  if (band === 'low') return 'success'
  return 'info'
}

/** A signed change in probability points: "+12.5 pts", "−3.0 pts". */
export function changePoints(change: number): string {
  const points = Math.abs(change * 100).toFixed(1)
  return `${change >= 0 ? '+' : '−'}${points}`
}

// UCUM units that mean "a count" or "no unit": not shown after the number.
const UNITLESS = new Set(['1', '{#}', ''])

// UCUM codes as people write them; ages read in the UI's language.
const UNIT_LABELS: Record<string, Label> = {
  'mm[Hg]': { zh: 'mmHg', en: 'mmHg' },
  'kg/m2': { zh: 'kg/m²', en: 'kg/m²' },
  a: { zh: '岁', en: 'years' },
  mo: { zh: '个月', en: 'months' },
}

/** A value with its unit for display: at most two decimals, counts without a unit. */
export function quantity(value: number | null, unit: string, locale = 'en'): string {
  const label = UNIT_LABELS[unit]
  const shownUnit = UNITLESS.has(unit) ? '' : label ? localized(label, locale) : unit
  if (value === null) return shownUnit
  const number = Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100)
  return shownUnit ? `${number} ${shownUnit}` : number
}

/** The kind of record an input came from ("Observation/…" → "Observation"), for a readable label. */
export function sourceKind(reference: string): 'Observation' | 'Patient' | 'other' {
  const kind = reference.split('/', 1)[0]
  return kind === 'Observation' || kind === 'Patient' ? kind : 'other'
}

/** The date part of a FHIR dateTime. */
export function shortDate(value: string | null | undefined): string {
  return value ? value.slice(0, 10) : '–'
}

/** Computed suggestions first (highest probability first), then the ones lacking inputs. */
export function sortSuggestions(list: readonly Suggestion[]): Suggestion[] {
  const rank = (s: Suggestion) => (s.status === 'ok' ? 0 : s.status === 'refused' ? 1 : 2)
  return [...list].sort((a, b) => rank(a) - rank(b) || (b.probability ?? 0) - (a.probability ?? 0) || a.task.localeCompare(b.task))
}
