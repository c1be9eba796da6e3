/**
 * From FHIR resources to what the record pages show: timeline events (kind, date, title) and
 * chart series of vital signs and lab values. Pure functions, so they are tested without a DOM.
 */
import type { CodeableConcept, FhirResource, Observation, Period } from '@/features/record/fhir'

export const TIMELINE_KINDS = [
  'encounter',
  'condition',
  'medication',
  'allergy',
  'immunization',
  'report',
  'procedure',
] as const
export type TimelineKind = (typeof TIMELINE_KINDS)[number]

export interface TimelineEvent {
  key: string
  kind: TimelineKind
  /** ISO date or date-time as the resource gives it; '' when the resource has none. */
  date: string
  title: string
  /** A status code (e.g. "finished", "active", "resolved"); '' when none. */
  status: string
}

export interface TimelineYear {
  /** '' for events without a date (listed last). */
  year: string
  events: TimelineEvent[]
}

type Getter = (resource: Record<string, unknown>) => { kind: TimelineKind; date?: unknown; title?: unknown; status?: unknown }

function concept(value: unknown): string {
  const codeable = (Array.isArray(value) ? value[0] : value) as CodeableConcept | undefined
  if (!codeable || typeof codeable !== 'object') return ''
  return codeable.text ?? codeable.coding?.find((coding) => coding.display)?.display ?? codeable.coding?.[0]?.code ?? ''
}

function periodStart(value: unknown): string | undefined {
  return (value as Period | undefined)?.start
}

const READERS: Record<string, Getter> = {
  Encounter: (r) => ({ kind: 'encounter', date: periodStart(r.period), title: concept(r.type) || concept(r.class), status: r.status }),
  Condition: (r) => ({
    kind: 'condition',
    date: r.onsetDateTime ?? periodStart(r.onsetPeriod) ?? r.recordedDate,
    title: concept(r.code),
    status: concept(r.clinicalStatus),
  }),
  MedicationRequest: (r) => ({ kind: 'medication', date: r.authoredOn, title: concept(r.medicationCodeableConcept) || (r.medicationReference as { display?: string } | undefined)?.display, status: r.status }),
  AllergyIntolerance: (r) => ({ kind: 'allergy', date: r.recordedDate ?? r.onsetDateTime, title: concept(r.code), status: concept(r.clinicalStatus) }),
  Immunization: (r) => ({ kind: 'immunization', date: r.occurrenceDateTime, title: concept(r.vaccineCode), status: r.status }),
  DiagnosticReport: (r) => ({ kind: 'report', date: r.effectiveDateTime ?? periodStart(r.effectivePeriod) ?? r.issued, title: concept(r.code), status: r.status }),
  DocumentReference: (r) => ({ kind: 'report', date: r.date, title: r.description ?? concept(r.type), status: r.status }),
  Procedure: (r) => ({ kind: 'procedure', date: r.performedDateTime ?? periodStart(r.performedPeriod), title: concept(r.code), status: r.status }),
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '')

/** Events of the resources the timeline knows (others are skipped), most recent first. */
export function timelineEvents(resources: readonly FhirResource[]): TimelineEvent[] {
  const events: TimelineEvent[] = []
  for (const resource of resources) {
    const read = READERS[resource.resourceType]
    if (!read) continue
    const fields = read(resource)
    events.push({
      key: `${resource.resourceType}/${resource.id ?? events.length}`,
      kind: fields.kind,
      date: text(fields.date),
      title: text(fields.title) || resource.resourceType,
      status: text(fields.status),
    })
  }
  // ISO dates of the same precision sort as strings; undated events go last.
  return events.sort((a, b) => (a.date === b.date ? 0 : a.date === '' ? 1 : b.date === '' ? -1 : a.date < b.date ? 1 : -1))
}

/** Events grouped by calendar year, keeping their order (so years run newest first). */
export function groupByYear(events: readonly TimelineEvent[]): TimelineYear[] {
  const years: TimelineYear[] = []
  for (const event of events) {
    const year = event.date.slice(0, 4)
    const last = years[years.length - 1]
    if (last && last.year === year) last.events.push(event)
    else years.push({ year, events: [event] })
  }
  return years
}

/** Status codes the timeline translates (others are shown as they are). */
export const KNOWN_STATUSES = [
  'active',
  'inactive',
  'resolved',
  'remission',
  'recurrence',
  'finished',
  'completed',
  'stopped',
  'cancelled',
  'on-hold',
  'in-progress',
  'current',
  'superseded',
  'final',
  'preliminary',
  'amended',
  'entered-in-error',
] as const

export function countByKind(events: readonly TimelineEvent[]): Record<TimelineKind, number> {
  const counts = Object.fromEntries(TIMELINE_KINDS.map((kind) => [kind, 0])) as Record<TimelineKind, number>
  for (const event of events) counts[event.kind] += 1
  return counts
}

/** LOINC codes of the charted observations. */
export const LOINC = {
  bpPanel: '85354-9',
  systolic: '8480-6',
  diastolic: '8462-4',
  heartRate: '8867-4',
  weight: '29463-7',
  bmi: '39156-5',
  glucose: '15074-8',
  hba1c: '4548-4',
} as const

export const CHARTED_CODES = [LOINC.bpPanel, LOINC.heartRate, LOINC.weight, LOINC.bmi, LOINC.glucose, LOINC.hba1c] as const

/** [epoch milliseconds, value] */
export type Point = [number, number]

export interface Series {
  /** i18n key of the line's name. */
  name: string
  unit: string
  points: Point[]
}

export interface ChartData {
  /** The chart's id (data-testid `record-chart-<id>`) and i18n key suffix. */
  id: 'bp' | 'heartRate' | 'glucose' | 'weight' | 'hba1c'
  series: Series[]
}

function hasCode(value: CodeableConcept | undefined, code: string): boolean {
  return value?.coding?.some((coding) => coding.code === code) ?? false
}

function when(observation: Observation): number | null {
  const stamp = observation.effectiveDateTime ?? observation.effectivePeriod?.start
  const time = stamp ? Date.parse(stamp) : Number.NaN
  return Number.isNaN(time) ? null : time
}

function collect(observations: readonly Observation[], code: string, component?: string): { unit: string; points: Point[] } {
  let unit = ''
  const points: Point[] = []
  for (const observation of observations) {
    if (!hasCode(observation.code, component ? LOINC.bpPanel : code)) continue
    const quantity = component
      ? observation.component?.find((part) => hasCode(part.code, component))?.valueQuantity
      : observation.valueQuantity
    const time = when(observation)
    if (time === null || typeof quantity?.value !== 'number') continue
    unit ||= quantity.unit ?? quantity.code ?? ''
    points.push([time, quantity.value])
  }
  return { unit, points: points.sort((a, b) => a[0] - b[0]) }
}

/** UCUM codes as people write them. */
const UNIT_LABELS: Record<string, string> = { 'mm[Hg]': 'mmHg', 'kg/m2': 'kg/m²', '/min': '/min', '{beats}/min': '/min' }

export function unitLabel(unit: string): string {
  return UNIT_LABELS[unit] ?? unit
}

function series(name: string, found: { unit: string; points: Point[] }): Series {
  return { name, unit: unitLabel(found.unit), points: found.points }
}

/** The charts that have data, oldest point first in every series. */
export function chartData(observations: readonly Observation[]): ChartData[] {
  const charts: ChartData[] = [
    {
      id: 'bp',
      series: [
        series('record.series.systolic', collect(observations, LOINC.bpPanel, LOINC.systolic)),
        series('record.series.diastolic', collect(observations, LOINC.bpPanel, LOINC.diastolic)),
      ],
    },
    { id: 'heartRate', series: [series('record.series.heartRate', collect(observations, LOINC.heartRate))] },
    { id: 'glucose', series: [series('record.series.glucose', collect(observations, LOINC.glucose))] },
    {
      id: 'weight',
      series: [
        series('record.series.weight', collect(observations, LOINC.weight)),
        series('record.series.bmi', collect(observations, LOINC.bmi)),
      ],
    },
    { id: 'hba1c', series: [series('record.series.hba1c', collect(observations, LOINC.hba1c))] },
  ]
  return charts
    .map((chart) => ({ ...chart, series: chart.series.filter((line) => line.points.length > 0) }))
    .filter((chart) => chart.series.length > 0)
}
