import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import RecordPage from '@/pages/RecordPage.vue'
import { browser } from '@/shared/browser'
import { makeApp, makeMe, mountInApp } from '@/test/app'
import { fakeNetwork, type FakeNetwork } from '@/test/fetchMock'

const ME = makeMe()
const WARD_ID = '7c0c3d3e-0000-4000-8000-0000000000aa'
const EVERYTHING = `GET /fhir/R4/Patient/${ME.id}/$everything`

let network: FakeNetwork

function searchset(resources: object[]) {
  return { resourceType: 'Bundle', type: 'searchset', link: [], entry: resources.map((resource) => ({ resource, search: { mode: 'match' } })) }
}

const TIMELINE = [
  { resourceType: 'Patient', id: ME.id },
  { resourceType: 'Encounter', id: 'e1', status: 'finished', period: { start: '2026-03-01T09:00:00+08:00' }, type: [{ text: 'General examination' }] },
  { resourceType: 'Condition', id: 'c1', code: { text: 'Hypertension' }, onsetDateTime: '2024-06-01', clinicalStatus: { coding: [{ code: 'active' }] } },
  { resourceType: 'Immunization', id: 'i1', status: 'completed', occurrenceDateTime: '2024-10-01', vaccineCode: { text: 'Influenza' } },
]

const OBSERVATIONS = [
  {
    resourceType: 'Observation',
    id: 'bp1',
    code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
    effectiveDateTime: '2026-01-01T08:00:00+08:00',
    component: [
      { code: { coding: [{ code: '8480-6' }] }, valueQuantity: { value: 132, unit: 'mm[Hg]' } },
      { code: { coding: [{ code: '8462-4' }] }, valueQuantity: { value: 84, unit: 'mm[Hg]' } },
    ],
  },
  { resourceType: 'Observation', id: 'h1', code: { coding: [{ code: '4548-4' }] }, effectiveDateTime: '2026-01-01', valueQuantity: { value: 6.2, unit: '%' } },
]

async function mountPage(me = ME, locale: 'zh-CN' | 'en' = 'zh-CN') {
  // ECharts needs a canvas, which jsdom lacks: the chart itself is stubbed, its card is real.
  return mountInApp(RecordPage, makeApp({ me, locale }), { global: { stubs: { Echarts: true } } })
}

beforeEach(() => {
  network = fakeNetwork()
})

describe('my record', () => {
  it('shows charts of vital signs and labs and the timeline grouped by year', async () => {
    network.on(EVERYTHING, { status: 200, body: searchset(TIMELINE) }).on('GET /fhir/R4/Observation', { status: 200, body: searchset(OBSERVATIONS) })
    const wrapper = await mountPage()

    expect(wrapper.get('[data-testid="record-chart-bp"]').text()).toContain('收缩压 132 mmHg · 舒张压 84 mmHg')
    expect(wrapper.get('[data-testid="record-chart-hba1c"]').text()).toContain('HbA1c 6.2 %')
    expect(wrapper.find('[data-testid="record-chart-weight"]').exists()).toBe(false)
    const timeline = wrapper.get('[data-testid="record-timeline"]')
    expect(timeline.findAll('h3').map((h) => h.text())).toEqual(['2026', '2024'])
    expect(timeline.findAll('[data-testid="timeline-item"]').map((item) => item.attributes('data-kind'))).toEqual([
      'encounter',
      'immunization',
      'condition',
    ])
    expect(timeline.get('[data-testid="timeline-item"]').text()).toContain('General examination')
    expect(timeline.get('[data-testid="timeline-item"]').text()).toContain('已结束')
    const observationQuery = new URL(network.to('GET /fhir/R4/Observation')[0]!.url, 'http://localhost').searchParams
    expect(observationQuery.get('patient')).toBe(`Patient/${ME.id}`)
    expect(observationQuery.get('_sort')).toBe('-date')
  })

  it('filters the timeline by kind with its chips', async () => {
    network.on(EVERYTHING, { status: 200, body: searchset(TIMELINE) }).on('GET /fhir/R4/Observation', { status: 200, body: searchset([]) })
    const wrapper = await mountPage(ME, 'en')

    const chip = wrapper.get('[data-testid="record-filter-condition"]')
    expect(chip.text()).toBe('Conditions (1)')
    await chip.trigger('click')
    expect(wrapper.findAll('[data-testid="timeline-item"]').map((item) => item.attributes('data-kind'))).toEqual(['encounter', 'immunization'])
    await chip.trigger('click')
    expect(wrapper.findAll('[data-testid="timeline-item"]')).toHaveLength(3)
  })

  it('downloads the whole record as one FHIR Bundle file', async () => {
    network
      .on(EVERYTHING, { status: 200, body: searchset(TIMELINE) })
      .on('GET /fhir/R4/Observation', { status: 200, body: searchset([]) })
    const saved = vi.spyOn(browser, 'saveFile').mockImplementation(() => undefined)
    const wrapper = await mountPage()

    await wrapper.get('[data-testid="record-download"]').trigger('click')
    await flushPromises()

    expect(saved).toHaveBeenCalledTimes(1)
    const [filename, text, type] = saved.mock.calls[0]!
    expect(filename).toMatch(new RegExp(`^record-${ME.id}-\\d{4}-\\d{2}-\\d{2}\\.json$`))
    expect(type).toBe('application/fhir+json')
    const bundle = JSON.parse(text) as { resourceType: string; type: string; entry: { resource: { id: string } }[] }
    expect([bundle.resourceType, bundle.type, bundle.entry.map((e) => e.resource.id)]).toEqual(['Bundle', 'collection', [ME.id, 'e1', 'c1', 'i1']])
    expect(new URL(network.to(EVERYTHING)[1]!.url, 'http://localhost').searchParams.get('_type')).toBeNull()
  })

  it('says so when the record is empty, and what will appear there', async () => {
    network.on(EVERYTHING, { status: 200, body: searchset([{ resourceType: 'Patient', id: ME.id }]) }).on('GET /fhir/R4/Observation', { status: 200, body: searchset([]) })
    const wrapper = await mountPage(ME, 'en')

    expect(wrapper.get('[data-testid="record-empty"]').text()).toContain('Your record is still empty: your visits')
    expect(wrapper.find('[data-testid="record-timeline"]').exists()).toBe(false)
  })

  it("tells a new patient whose record does not exist yet that it is empty, not missing", async () => {
    network
      .on(EVERYTHING, { status: 404, body: { resourceType: 'OperationOutcome', issue: [{ code: 'not-found' }] } })
      .on('GET /fhir/R4/Observation', { status: 200, body: searchset([]) })
    const wrapper = await mountPage(ME, 'en')

    expect(wrapper.get('[data-testid="record-empty"]').text()).toContain('Your record is still empty')
    expect(wrapper.find('[data-testid="record-not-found"]').exists()).toBe(false)
  })

  it('shows "no access" on a 403 and offers no download', async () => {
    network
      .on(EVERYTHING, { status: 403, body: { resourceType: 'OperationOutcome', issue: [{ code: 'forbidden', diagnostics: 'No.' }] } })
      .on('GET /fhir/R4/Observation', { status: 403, body: { resourceType: 'OperationOutcome', issue: [{ code: 'forbidden' }] } })
    const wrapper = await mountPage(ME, 'en')

    expect(wrapper.get('[data-testid="record-forbidden"]').text()).toContain('No access to this record')
    expect(wrapper.find('[data-testid="record-download"]').exists()).toBe(false)
  })

  it('shows the server error of any other failure', async () => {
    network
      .on(EVERYTHING, { status: 500, body: { resourceType: 'OperationOutcome', issue: [{ code: 'exception', diagnostics: 'Store unavailable.' }] } })
      .on('GET /fhir/R4/Observation', { status: 200, body: searchset([]) })
    const wrapper = await mountPage()

    expect(wrapper.get('[data-testid="record-error"]').text()).toContain('Store unavailable.')
  })

  it("lets a guardian switch to a ward's record", async () => {
    const guardian = makeMe({ roles: ['patient', 'guardian'] })
    network
      .on('GET /api/v1/me/wards', {
        status: 200,
        body: [{ id: WARD_ID, legal_name: '赵小宝', resident_id_masked: '4401**********4686', birth_date: '2021-05-20', sex: 'female', relationship: 'parent' }],
      })
      .on(EVERYTHING, { status: 200, body: searchset(TIMELINE) })
      .on(`GET /fhir/R4/Patient/${WARD_ID}/$everything`, { status: 200, body: searchset([{ resourceType: 'Patient', id: WARD_ID }]) })
      .on('GET /fhir/R4/Observation', { status: 200, body: searchset([]) })
    const wrapper = await mountPage(guardian)

    expect(wrapper.findAll('[data-testid="timeline-item"]')).toHaveLength(3)
    const select = wrapper.getComponent({ name: 'ElSelect' })
    select.vm.$emit('update:modelValue', WARD_ID)
    await flushPromises()

    expect(network.to(`GET /fhir/R4/Patient/${WARD_ID}/$everything`)).toHaveLength(1)
    expect(wrapper.find('[data-testid="record-empty"]').exists()).toBe(true)
    const lastObservationQuery = new URL(network.to('GET /fhir/R4/Observation').at(-1)!.url, 'http://localhost').searchParams
    expect(lastObservationQuery.get('patient')).toBe(`Patient/${WARD_ID}`)
  })

  it("opens the ward that the link asks for, and ignores a patient who is not theirs", async () => {
    const guardian = makeMe({ roles: ['patient', 'guardian'] })
    network
      .on('GET /api/v1/me/wards', {
        status: 200,
        body: [{ id: WARD_ID, legal_name: '赵小宝', resident_id_masked: '4401**********4686', birth_date: '2021-05-20', sex: 'female', relationship: 'parent' }],
      })
      .on(EVERYTHING, { status: 200, body: searchset(TIMELINE) })
      .on(`GET /fhir/R4/Patient/${WARD_ID}/$everything`, { status: 200, body: searchset([{ resourceType: 'Patient', id: WARD_ID }]) })
      .on('GET /fhir/R4/Observation', { status: 200, body: searchset([]) })
    const app = makeApp({ me: guardian })
    const wrapper = await mountInApp(RecordPage, app, { global: { stubs: { Echarts: true } } })

    await app.router.push('/record?patient=someone-else')
    await flushPromises()
    expect(network.to(`GET /fhir/R4/Patient/${WARD_ID}/$everything`)).toHaveLength(0)

    await app.router.push(`/record?patient=${WARD_ID}`)
    await flushPromises()
    expect(network.to(`GET /fhir/R4/Patient/${WARD_ID}/$everything`)).toHaveLength(1)
    expect(wrapper.getComponent({ name: 'ElSelect' }).props('modelValue')).toBe(WARD_ID)
  })
})
