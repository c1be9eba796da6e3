import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'

import PatientChartPage from '@/pages/PatientChartPage.vue'
import PatientsPage from '@/pages/PatientsPage.vue'
import { makeApp, makeMe, mountInApp } from '@/test/app'
import { fakeNetwork, type FakeNetwork } from '@/test/fetchMock'

const DOCTOR = makeMe({ id: '06cf6e3c-0000-4000-8000-000000000009', roles: ['doctor'], display_name: '张医生' })
const PATIENT_ID = '02da3fba-0000-4000-8000-000000000001'

let network: FakeNetwork

beforeEach(() => {
  network = fakeNetwork()
})

function searchset(entries: object[]) {
  return { resourceType: 'Bundle', type: 'searchset', link: [], entry: entries }
}

describe('my patients', () => {
  it('lists the patients whose active Consent names the doctor, linking to their charts', async () => {
    network.on('GET /fhir/R4/Consent', {
      status: 200,
      body: searchset([
        {
          resource: { resourceType: 'Consent', id: 'c1', status: 'active', patient: { reference: `Patient/${PATIENT_ID}` }, dateTime: '2026-10-28' },
          search: { mode: 'match' },
        },
        {
          resource: { resourceType: 'Patient', id: PATIENT_ID, name: [{ text: '李明' }], gender: 'male', birthDate: '1985-03-12' },
          search: { mode: 'include' },
        },
      ]),
    })
    const wrapper = await mountInApp(PatientsPage, makeApp({ me: DOCTOR }))

    const list = wrapper.get('[data-testid="patients-list"]')
    expect(list.text()).toContain('李明')
    expect(list.text()).toContain('男')
    expect(list.text()).toContain('1985-03-12')
    expect(list.get('[data-testid="patients-open"]').attributes('href')).toBe(`/patients/${PATIENT_ID}`)
    const query = new URL(network.requests[0]!.url, 'http://localhost').searchParams
    expect([query.get('actor'), query.get('status')]).toEqual([`Practitioner/${DOCTOR.id}`, 'active'])
  })

  it('says so when no patient has consented', async () => {
    network.on('GET /fhir/R4/Consent', { status: 200, body: searchset([]) })
    const wrapper = await mountInApp(PatientsPage, makeApp({ me: DOCTOR, locale: 'en' }))

    expect(wrapper.get('[data-testid="patients-empty"]').text()).toContain('No patient has consented')
    expect(wrapper.find('[data-testid="patients-list"]').exists()).toBe(false)
  })

  it('shows the error when the search fails', async () => {
    network.on('GET /fhir/R4/Consent', { status: 403, body: { resourceType: 'OperationOutcome', issue: [{ code: 'forbidden', diagnostics: 'Insufficient scope.' }] } })
    const wrapper = await mountInApp(PatientsPage, makeApp({ me: DOCTOR }))

    expect(wrapper.get('[data-testid="patients-error"]').text()).toContain('Insufficient scope.')
  })
})

describe('patient chart', () => {
  it("shows the patient and their record, and no access to a record without consent", async () => {
    network
      .on(`GET /fhir/R4/Patient/${PATIENT_ID}`, { status: 200, body: { resourceType: 'Patient', id: PATIENT_ID, name: [{ text: '李明' }], gender: 'male', birthDate: '1985-03-12' } })
      .on(`GET /fhir/R4/Patient/${PATIENT_ID}/$everything`, {
        status: 200,
        body: searchset([{ resource: { resourceType: 'Encounter', id: 'e1', period: { start: '2026-01-01' }, type: [{ text: 'Checkup' }] } }]),
      })
      .on('GET /fhir/R4/Observation', { status: 200, body: searchset([]) })
      .on('GET /fhir/R4/Patient/other', { status: 403, body: { resourceType: 'OperationOutcome', issue: [{ code: 'forbidden' }] } })
      .on('GET /fhir/R4/Patient/other/$everything', { status: 403, body: { resourceType: 'OperationOutcome', issue: [{ code: 'forbidden' }] } })
    const context = makeApp({ me: DOCTOR })
    const wrapper = await mountInApp(PatientChartPage, context, { global: { stubs: { Echarts: true } } })
    await context.router.push(`/patients/${PATIENT_ID}`)
    await flushPromises()

    expect(wrapper.get('[data-testid="chart-patient-name"]').text()).toBe('李明')
    expect(wrapper.text()).toContain('出生于 1985-03-12')
    expect(wrapper.get('[data-testid="record-download"]').text()).toBe('下载档案')
    expect(wrapper.get('[data-testid="timeline-item"]').text()).toContain('Checkup')

    await context.router.push('/patients/other')
    await flushPromises()
    expect(wrapper.get('[data-testid="record-forbidden"]').text()).toContain('无权查看此档案')
    expect(wrapper.get('[data-testid="chart-patient-name"]').text()).toBe('患者档案')
  })
})
