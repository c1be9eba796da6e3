import { flushPromises, mount } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'

import AssignmentPage from '@/pages/AssignmentPage.vue'
import FindDoctorPage from '@/pages/FindDoctorPage.vue'
import { makeApp, makeMe, mountInApp, type AppContext } from '@/test/app'
import { fakeNetwork, type FakeNetwork } from '@/test/fetchMock'

const PATIENT = makeMe({ roles: ['patient'] })
const OPERATOR = makeMe({ roles: ['operator'] })
const DOCTOR_ID = '1b0c7c1e-0000-4000-8000-000000000001'
const DEPARTMENTS = [
  { code: 'cardiology', en: 'Cardiology', zh: '心血管内科', nhc_code: '03.04' },
  { code: 'dermatology', en: 'Dermatology', zh: '皮肤科', nhc_code: '13' },
]
const WITH_GENERAL_PRACTICE = [
  { code: 'emergency', en: 'Emergency medicine', zh: '急诊医学科', nhc_code: '20' },
  { code: 'general_practice', en: 'General practice', zh: '全科医疗科', nhc_code: '02' },
  ...DEPARTMENTS,
]

let network: FakeNetwork

beforeEach(() => {
  network = fakeNetwork()
  network.on('GET /api/v1/departments', { status: 200, body: DEPARTMENTS })
})

function recommendations(items: object[], emptyReason: string | null = null) {
  return {
    items,
    empty_reason: emptyReason,
    examined: 12,
    filtered: {},
    exhaustive: true,
    query: { lat: 31.23, lon: 121.47, department: 'dermatology', mode: 'video', start: '', end: '', radius_km: null, limit: 10 },
  }
}

const ITEM = {
  doctor_id: DOCTOR_ID,
  score: 0.8,
  distance_km: 3.2,
  lat: 31.25,
  lon: 121.47,
  next_slot_at: null,
  expected_wait_minutes: 5,
  reasons: [
    { kind: 'distance_km', value: 3.2, contribution: 0.01 },
    { kind: 'online_now', value: 5, contribution: 0.29 },
    { kind: 'saw_you_before', value: true, contribution: 0.15 },
  ],
  doctor: {
    id: DOCTOR_ID,
    display_name: '王医生',
    title: 'attending',
    department: 'dermatology',
    hospital: '华山医院',
    city: '上海',
    photo_url: null,
    fees: { video: 5000 },
    rating: 4.8,
    rating_count: 20,
    languages: ['zh'],
    gender: 'female',
  },
}

async function mountAt(path: string, context: AppContext) {
  await context.router.push(path)
  await context.router.isReady()
  const wrapper = mount(FindDoctorPage, {
    attachTo: document.body,
    global: { plugins: [context.pinia, context.i18n, context.router], stubs: { Echarts: true } },
  })
  await flushPromises()
  return wrapper
}

describe('find a doctor', () => {
  it('searches the department from the link and renders each reason in the UI language', async () => {
    network.on('GET /api/v1/matching/recommendations', { status: 200, body: recommendations([ITEM]) })
    const wrapper = await mountAt('/find-doctor?department=dermatology', makeApp({ me: PATIENT, locale: 'en' }))

    const query = new URL(network.to('GET /api/v1/matching/recommendations')[0]!.url, 'http://localhost').searchParams
    expect([query.get('department'), query.get('mode'), query.get('lat'), query.get('lon')]).toEqual([
      'dermatology',
      'video',
      '31.2304',
      '121.4737',
    ])
    const result = wrapper.get('[data-testid="find-result"]')
    expect(result.text()).toContain('王医生')
    expect(result.text()).toContain('Dermatology')
    expect(result.get('[data-testid="find-reasons"]').text()).toBe('3.2 km · online now · ~5 min wait · saw you before')
    expect(result.get('[data-testid="find-result-link"]').attributes('href')).toBe(`/doctors/${DOCTOR_ID}`)
  })

  it('explains an empty answer in Chinese', async () => {
    network.on('GET /api/v1/matching/recommendations', { status: 200, body: recommendations([], 'none_in_radius') })
    const wrapper = await mountAt('/find-doctor', makeApp({ me: PATIENT }))

    expect(wrapper.get('[data-testid="find-empty"]').text()).toContain('附近没有医生的服务范围覆盖您的位置')
    const query = new URL(network.to('GET /api/v1/matching/recommendations')[0]!.url, 'http://localhost').searchParams
    expect(query.get('department')).toBe('cardiology')
  })

  it('starts in general practice when no department is asked for, not in emergency medicine', async () => {
    network = fakeNetwork().on('GET /api/v1/departments', { status: 200, body: WITH_GENERAL_PRACTICE })
    network.on('GET /api/v1/matching/recommendations', { status: 200, body: recommendations([], 'no_doctors') })
    await mountAt('/find-doctor', makeApp({ me: PATIENT }))

    const query = new URL(network.to('GET /api/v1/matching/recommendations')[0]!.url, 'http://localhost').searchParams
    expect(query.get('department')).toBe('general_practice')
  })

  it('shows the server error', async () => {
    network.on('GET /api/v1/matching/recommendations', {
      status: 400,
      body: { error: { code: 'radius_out_of_range', message: '搜索半径超出范围。' } },
    })
    const wrapper = await mountAt('/find-doctor', makeApp({ me: PATIENT }))

    expect(wrapper.get('[data-testid="find-error"]').text()).toContain('搜索半径超出范围。')
  })
})

describe('home-visit assignment', () => {
  it('runs for the chosen day and shows the totals beside the baseline', async () => {
    network.on('POST /api/v1/matching/assignments', {
      status: 201,
      body: {
        id: 'r1',
        created_at: '2026-11-27T00:00:00Z',
        created_by: OPERATOR.id,
        wanted_on: '2026-11-28',
        department: null,
        applied: false,
        requests: 3,
        doctors: 1,
        assigned: 2,
        over_capacity: 0,
        seconds: 0.01,
        min_cost_flow: { travel_km: 10.5, wait_minutes: 45, cost: 10015.0, unassigned: 1 },
        greedy: { travel_km: 12.0, wait_minutes: 45, cost: 10016.5, unassigned: 1 },
        saving_percent: 0.01,
        doctor_loads: [{ doctor_id: 'd1', department: 'cardiology', lat: 31.2, lon: 121.4, capacity: 2, load: 2 }],
        plan: [
          { request_id: 'a', lat: 31.21, lon: 121.41, department: 'cardiology', doctor_id: 'd1', km: 1.2 },
          { request_id: 'b', lat: 31.22, lon: 121.42, department: 'cardiology', doctor_id: 'd1', km: 2.5 },
          { request_id: 'c', lat: 31.5, lon: 121.9, department: 'cardiology', doctor_id: null, km: null },
        ],
      },
    })
    const wrapper = await mountInApp(AssignmentPage, makeApp({ me: OPERATOR, locale: 'en' }), {
      global: { stubs: { Echarts: true } },
    })

    await wrapper.get('[data-testid="assignment-run"]').trigger('click')
    await flushPromises()

    const sent = network.json(network.to('POST /api/v1/matching/assignments')[0]!) as Record<string, unknown>
    expect(sent.apply).toBe(false)
    expect(sent.department).toBeNull()
    expect(String(sent.wanted_on)).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    expect(wrapper.get('[data-testid="assignment-summary"]').text()).toContain('Assigned: 2')
    expect(wrapper.get('[data-testid="assignment-over-capacity"]').text()).toContain('0')
    const totals = wrapper.get('[data-testid="assignment-totals"]').text()
    expect(totals).toContain('Min-cost flow')
    expect(totals).toContain('Greedy nearest-first')
    expect(totals).toContain('10.5')
    expect(totals).toContain('12')
  })
})
