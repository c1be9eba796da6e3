import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'

import SuggestionsPanel from '@/features/diagnosis/components/SuggestionsPanel.vue'
import type { Suggestion } from '@/features/diagnosis/types'
import { makeApp, makeMe, mountInApp } from '@/test/app'
import { fakeNetwork, type FakeNetwork } from '@/test/fetchMock'

const DOCTOR = makeMe({ roles: ['doctor'] })
const PATIENT = 'p-1'
const interval = (value: number) => ({ value, low: value - 0.05, high: value + 0.05 })

const PIMA: Suggestion = {
  task: 'pima_diabetes',
  title: { en: 'Diabetes', zh: '糖尿病风险' },
  model: { id: 7, version: 'abc123def456' },
  status: 'ok',
  id: 'ra-1',
  decision: 'pending',
  probability: 0.72,
  risk_band: 'high',
  threshold: 0.35,
  inputs_used: [
    {
      input: 'bmi',
      label: { en: 'Body mass index', zh: '体重指数' },
      loinc: '39156-5',
      value: 31.5,
      unit: 'kg/m2',
      given_value: 31.5,
      given_unit: 'kg/m2',
      effective: '2024-03-02T08:00:00+08:00',
      source: 'Observation/o-1',
    },
  ],
  missing: [],
  contributions: [{ input: 'bmi', label: { en: 'Body mass index', zh: '体重指数' }, value: 31.5, reference: 32.8, change: 0.12 }],
  out_of_distribution: true,
  out_of_range: [{ input: 'pregnancies', value: 25, min: 0, max: 14 }],
  outside_population: false,
  performance: { auroc: interval(0.84), sensitivity: interval(0.8), specificity: interval(0.7) },
  error: null,
}
const PBC = {
  task: 'pbc_mortality',
  title: { en: 'PBC', zh: '原发性胆汁性胆管炎五年死亡风险' },
  model: { id: 8, version: 'fff' },
  status: 'missing_inputs',
  missing: [{ input: 'bilirubin', label: { en: 'Total bilirubin', zh: '血清总胆红素' }, loinc: '1975-2', unit: 'mg/dL', system: 'http://loinc.org', code: '1975-2' }],
} as Suggestion

let network: FakeNetwork

beforeEach(() => {
  network = fakeNetwork()
})

describe('suggestions panel', () => {
  it('shows probability, band, evidence, performance, warnings and missing inputs', async () => {
    network.on('GET /api/v1/diagnosis/suggestions', { status: 200, body: { patient: PATIENT, suggestions: [PBC, PIMA] } })
    const wrapper = await mountInApp(SuggestionsPanel, makeApp({ me: DOCTOR }), { props: { patientId: PATIENT } })

    expect(new URL(network.requests[0]!.url, 'http://x').searchParams.get('patient')).toBe(PATIENT)
    const cards = wrapper.findAll('article')
    expect(cards.map((c) => c.attributes('data-testid'))).toEqual(['suggestion-pima_diabetes', 'suggestion-pbc_mortality'])
    const pima = wrapper.get('[data-testid="suggestion-pima_diabetes"]')
    expect(pima.get('[data-testid="suggestion-band"]').text()).toBe('高风险')
    expect(pima.get('[data-testid="suggestion-probability"]').text()).toContain('72%')
    expect(pima.text()).toContain('2024-03-02')
    // Each input names the kind of record it came from; the exact FHIR reference is on hover.
    expect(pima.get('td[title="Observation/o-1"]').text()).toBe('检查/检验结果')
    expect(pima.text()).toContain('+12.0')
    expect(pima.get('[data-testid="suggestion-performance"]').text()).toContain('AUROC 0.84 (0.79–0.89)')
    expect(pima.get('[data-testid="suggestion-ood"]').text()).toContain('pregnancies')
    expect(pima.find('[data-testid="suggestion-population"]').exists()).toBe(false)
    const missing = wrapper.get('[data-testid="suggestion-missing"]')
    expect(missing.text()).toContain('血清总胆红素')
    expect(missing.text()).toContain('LOINC 1975-2')
  })

  it('dismisses a suggestion with a reason and shows the decision', async () => {
    network.on('GET /api/v1/diagnosis/suggestions', { status: 200, body: { patient: PATIENT, suggestions: [PIMA] } })
    network.on('POST /api/v1/diagnosis/suggestions/ra-1/feedback', {
      status: 200,
      body: { id: 'ra-1', task: 'pima_diabetes', version: 'abc', decision: 'dismissed', reason: 'old OGTT', decided_at: '2026-11-26T12:00:00Z' },
    })
    const wrapper = await mountInApp(SuggestionsPanel, makeApp({ me: DOCTOR, locale: 'en' }), { props: { patientId: PATIENT } })

    await wrapper.get('input[data-testid="suggestion-reason"]').setValue('old OGTT')
    await wrapper.get('[data-testid="suggestion-dismiss"]').trigger('click')
    await flushPromises()

    const [request] = network.to('POST /api/v1/diagnosis/suggestions/ra-1/feedback')
    expect(network.json(request!)).toEqual({ decision: 'dismissed', reason: 'old OGTT' })
    expect(wrapper.get('[data-testid="suggestion-decision"]').text()).toBe('Dismissed')
    expect(wrapper.find('[data-testid="suggestion-dismiss"]').exists()).toBe(false)
  })

  it('says so when the doctor may not see the patient', async () => {
    network.on('GET /api/v1/diagnosis/suggestions', {
      status: 403,
      body: { error: { code: 'patient_not_visible', message: 'no', details: null } },
    })
    const wrapper = await mountInApp(SuggestionsPanel, makeApp({ me: DOCTOR, locale: 'en' }), { props: { patientId: PATIENT } })
    expect(wrapper.get('[data-testid="suggestions-forbidden"]').text()).toContain('may not see')
  })
})
