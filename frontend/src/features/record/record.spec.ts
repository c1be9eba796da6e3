import { describe, expect, it } from 'vitest'

import type { FhirResource, Observation } from '@/features/record/fhir'
import { chartData, countByKind, groupByYear, timelineEvents, unitLabel } from '@/features/record/record'

const resources: FhirResource[] = [
  { resourceType: 'Encounter', id: 'e1', status: 'finished', period: { start: '2024-05-01T09:00:00+08:00' }, type: [{ text: 'General examination' }] },
  { resourceType: 'Condition', id: 'c1', code: { coding: [{ code: '44054006', display: 'Diabetes' }] }, onsetDateTime: '2025-01-10', clinicalStatus: { coding: [{ code: 'active' }] } },
  { resourceType: 'MedicationRequest', id: 'm1', status: 'active', authoredOn: '2025-03-02', medicationCodeableConcept: { text: 'Metformin 500 MG' } },
  { resourceType: 'Immunization', id: 'i1', status: 'completed', occurrenceDateTime: '2024-10-01', vaccineCode: { text: 'Influenza' } },
  { resourceType: 'DocumentReference', id: 'd1', status: 'current', date: '2024-05-01T10:00:00+08:00', type: { coding: [{ display: 'History and physical note' }] } },
  { resourceType: 'AllergyIntolerance', id: 'a1', code: { text: 'Penicillin' } },
  { resourceType: 'Observation', id: 'o1' },
]

describe('timeline', () => {
  it('reads kind, date, title and status of each known type, newest first, undated last', () => {
    expect(timelineEvents(resources)).toEqual([
      { key: 'MedicationRequest/m1', kind: 'medication', date: '2025-03-02', title: 'Metformin 500 MG', status: 'active' },
      { key: 'Condition/c1', kind: 'condition', date: '2025-01-10', title: 'Diabetes', status: 'active' },
      { key: 'Immunization/i1', kind: 'immunization', date: '2024-10-01', title: 'Influenza', status: 'completed' },
      { key: 'DocumentReference/d1', kind: 'report', date: '2024-05-01T10:00:00+08:00', title: 'History and physical note', status: 'current' },
      { key: 'Encounter/e1', kind: 'encounter', date: '2024-05-01T09:00:00+08:00', title: 'General examination', status: 'finished' },
      { key: 'AllergyIntolerance/a1', kind: 'allergy', date: '', title: 'Penicillin', status: '' },
    ])
  })

  it('groups by year in order and counts by kind', () => {
    const events = timelineEvents(resources)
    expect(groupByYear(events).map((group) => [group.year, group.events.length])).toEqual([
      ['2025', 2],
      ['2024', 3],
      ['', 1],
    ])
    expect(countByKind(events)).toEqual({ encounter: 1, condition: 1, medication: 1, allergy: 1, immunization: 1, report: 1, procedure: 0 })
  })
})

function quantity(id: string, code: string, date: string, value: number, unit: string): Observation {
  return { resourceType: 'Observation', id, code: { coding: [{ system: 'http://loinc.org', code }] }, effectiveDateTime: date, valueQuantity: { value, unit } }
}

describe('charts', () => {
  it('splits blood pressure panels into systolic and diastolic lines, oldest first', () => {
    const bp = (id: string, date: string, sys: number, dia: number): Observation => ({
      resourceType: 'Observation',
      id,
      code: { coding: [{ code: '85354-9' }] },
      effectiveDateTime: date,
      component: [
        { code: { coding: [{ code: '8480-6' }] }, valueQuantity: { value: sys, unit: 'mm[Hg]' } },
        { code: { coding: [{ code: '8462-4' }] }, valueQuantity: { value: dia, unit: 'mm[Hg]' } },
      ],
    })
    const charts = chartData([bp('b2', '2026-02-01T00:00:00Z', 130, 85), bp('b1', '2026-01-01T00:00:00Z', 120, 80)])
    expect(charts).toEqual([
      {
        id: 'bp',
        series: [
          { name: 'record.series.systolic', unit: 'mmHg', points: [[Date.UTC(2026, 0, 1), 120], [Date.UTC(2026, 1, 1), 130]] },
          { name: 'record.series.diastolic', unit: 'mmHg', points: [[Date.UTC(2026, 0, 1), 80], [Date.UTC(2026, 1, 1), 85]] },
        ],
      },
    ])
  })

  it('charts only what has readings, weight with BMI, skipping readings without a value or date', () => {
    const charts = chartData([
      quantity('w1', '29463-7', '2025-01-01T00:00:00Z', 80.5, 'kg'),
      quantity('m1', '39156-5', '2025-01-01T00:00:00Z', 27.1, 'kg/m2'),
      quantity('g1', '15074-8', '2025-01-02T00:00:00Z', 5.4, 'mmol/L'),
      { resourceType: 'Observation', id: 'g2', code: { coding: [{ code: '15074-8' }] }, effectiveDateTime: '2025-01-03' },
      { resourceType: 'Observation', id: 'h1', code: { coding: [{ code: '4548-4' }] }, valueQuantity: { value: 6.1, unit: '%' } },
    ])
    expect(charts.map((chart) => [chart.id, chart.series.map((line) => [line.name, line.unit, line.points.length])])).toEqual([
      ['glucose', [['record.series.glucose', 'mmol/L', 1]]],
      ['weight', [['record.series.weight', 'kg', 1], ['record.series.bmi', 'kg/m²', 1]]],
    ])
  })

  it('writes UCUM units as people do', () => {
    expect([unitLabel('mm[Hg]'), unitLabel('kg/m2'), unitLabel('%')]).toEqual(['mmHg', 'kg/m²', '%'])
  })
})
