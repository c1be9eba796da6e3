import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import SymptomCheckPage from '@/pages/SymptomCheckPage.vue'
import { makeApp, makeMe, mountInApp } from '@/test/app'
import { fakeNetwork, type FakeNetwork } from '@/test/fetchMock'

const label = (en: string, zh: string) => ({ en, zh })
const CATALOGUE = {
  symptoms: [
    { code: 'headache', label: label('Headache', '头痛'), department: 'neurology' },
    { code: 'fever', label: label('Fever', '发热'), department: 'general_internal_medicine' },
  ],
  durations: [
    { code: 'under_1_day', label: label('1 hour to 1 day', '1小时至1天') },
    { code: '1_2_days', label: label('1-2 days', '1-2天') },
  ],
  severities: [
    { code: 'mild', label: label('Mild', '轻度') },
    { code: 'moderate', label: label('Moderate', '中度') },
  ],
  sexes: [
    { code: 'female', label: label('Female', '女') },
    { code: 'male', label: label('Male', '男') },
  ],
  urgencies: [],
}
const PATIENT = makeMe({
  roles: ['patient'],
  real_name: { legal_name: '王芳', resident_id_masked: '3****5', birth_date: '1992-08-25', sex: 'female', verified_at: '2026-01-01T00:00:00Z' },
})

let network: FakeNetwork

beforeEach(() => {
  network = fakeNetwork()
  network.on('GET /api/v1/diagnosis/symptoms', { status: 200, body: CATALOGUE })
})

describe('symptom check', () => {
  it('sends the chosen symptoms with age and sex and links to the doctor search', async () => {
    network.on('POST /api/v1/diagnosis/triage', {
      status: 200,
      body: {
        urgency: 'routine',
        urgency_label: label('Book a routine appointment', '预约常规门诊'),
        red_flag: false,
        reasons: [{ rule: null, symptom: 'headache', label: label('Headache', '头痛'), sources: [] }],
        departments: [{ code: 'neurology', label: label('Neurology', '神经内科') }],
      },
    })
    // jsdom does not lay out or scroll: the result lands out of sight (as on a phone), and the
    // element the page brings into view is recorded.
    const scrolled: Element[] = []
    Element.prototype.scrollIntoView = vi.fn(function (this: Element) {
      scrolled.push(this)
    })
    vi.spyOn(Element.prototype, 'getBoundingClientRect').mockReturnValue({ top: window.innerHeight + 600 } as DOMRect)
    const wrapper = await mountInApp(SymptomCheckPage, makeApp({ me: PATIENT }))

    expect(wrapper.get('[data-testid="symptom-submit"]').attributes('disabled')).toBeDefined()
    await wrapper.get('[data-testid="symptom-headache"]').trigger('click')
    await wrapper.get('[data-testid="symptom-submit"]').trigger('click')
    await flushPromises()

    const [request] = network.to('POST /api/v1/diagnosis/triage')
    const body = network.json(request!) as { symptoms: unknown[]; age: number; sex: string }
    expect(body.symptoms).toEqual([{ code: 'headache', duration: 'under_1_day', severity: 'moderate' }])
    expect(body.sex).toBe('female')
    expect(body.age).toBeGreaterThanOrEqual(33)
    const result = wrapper.get('[data-testid="triage-result"]')
    expect(result.get('[data-testid="triage-urgency"]').text()).toBe('预约常规门诊')
    expect(result.get('[data-testid="department-neurology"]').text()).toBe('神经内科')
    expect(result.get('[data-testid="department-neurology"]').attributes('href')).toBe('/find-doctor?department=neurology')
    expect(result.get('[data-testid="find-doctor"]').attributes('href')).toBe('/find-doctor?department=neurology')
    expect(scrolled).toEqual([result.element])
  })

  it('shows the server refusal', async () => {
    network.on('POST /api/v1/diagnosis/triage', {
      status: 400,
      body: { error: { code: 'unknown_symptom', message: '症状不在目录中。', details: { symptoms: ['x'] } } },
    })
    const wrapper = await mountInApp(SymptomCheckPage, makeApp({ me: PATIENT }))
    await wrapper.get('[data-testid="symptom-fever"]').trigger('click')
    await wrapper.get('[data-testid="symptom-submit"]').trigger('click')
    await flushPromises()
    expect(wrapper.get('[role="alert"]').text()).toContain('症状不在目录中。')
    expect(wrapper.find('[data-testid="triage-result"]').exists()).toBe(false)
  })
})
