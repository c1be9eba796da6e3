import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'

import DoctorProfilePage from '@/pages/DoctorProfilePage.vue'
import { makeApp, mountInApp } from '@/test/app'
import { fakeNetwork, type FakeNetwork } from '@/test/fetchMock'

const ID = '9d0c3d3e-0000-4000-8000-000000000042'
let network: FakeNetwork

const DOCTOR = {
  id: ID,
  display_name: '张医生',
  title: 'chief',
  department: 'endocrinology',
  hospital: '瑞金医院',
  city: '上海',
  photo_url: null,
  fees: { video: 5000, in_person: 8000 },
  rating: 4.86,
  rating_count: 120,
  languages: ['zh', 'en'],
  gender: 'male',
  bio: '糖尿病',
  practice_address: '瑞金二路197号',
  latitude: 31.21,
  longitude: 121.47,
  service_radius_km: 15,
  time_zone: 'Asia/Shanghai',
  online: true,
  slots: [
    { start: '2026-12-08T01:00:00Z', end: '2026-12-08T01:30:00Z', modes: ['video'] },
    { start: '2026-12-07T01:30:00Z', end: '2026-12-07T02:00:00Z', modes: ['video'] },
    { start: '2026-12-07T01:00:00Z', end: '2026-12-07T01:30:00Z', modes: ['video', 'text'] },
  ],
}
const DEPARTMENTS = [{ code: 'endocrinology', zh: '内分泌科', en: 'Endocrinology', nhc_code: '03.07' }]

async function open(locale: 'zh-CN' | 'en' = 'zh-CN') {
  const app = makeApp({ locale })
  const wrapper = await mountInApp(DoctorProfilePage, app)
  await app.router.push(`/doctors/${ID}`)
  await flushPromises()
  return wrapper
}

beforeEach(() => {
  network = fakeNetwork()
})

describe('doctor profile page', () => {
  it('shows the card, fees in yuan and free slots grouped by the doctor\u2019s local day', async () => {
    network.on(`GET /api/v1/doctors/${ID}`, { status: 200, body: DOCTOR }).on('GET /api/v1/departments', { status: 200, body: DEPARTMENTS })
    const wrapper = await open()

    expect(wrapper.get('[data-testid="doctor-name"]').text()).toBe('张医生')
    expect(wrapper.get('[data-testid="doctor-card"]').text()).toContain('主任医师')
    expect(wrapper.get('[data-testid="doctor-card"]').text()).toContain('内分泌科')
    expect(wrapper.get('[data-testid="doctor-online"]').text()).toBe('在线，可立即问诊')
    expect(wrapper.get('[data-testid="doctor-fees"]').text()).toContain('¥50.00')
    expect(wrapper.get('[data-testid="doctor-fees"]').text()).toContain('¥80.00')
    expect(wrapper.get('[data-testid="slot-day-2026-12-07"]').findAll('.doctor-page__slot').map((s) => s.text())).toEqual(['09:00', '09:30'])
    expect(wrapper.get('[data-testid="slot-day-2026-12-08"]').findAll('.doctor-page__slot').map((s) => s.text())).toEqual(['09:00'])
    expect(network.to(`GET /api/v1/doctors/${ID}`)[0]?.headers.authorization).toBeUndefined()
  })

  it('says so when the doctor is not listed', async () => {
    network.on(`GET /api/v1/doctors/${ID}`, { status: 404, body: { error: { code: 'doctor_not_found', message: 'x' } } })
    const wrapper = await open('en')
    expect(wrapper.get('[data-testid="doctor-not-found"]').text()).toContain('not verified')
    expect(wrapper.get('[data-testid="doctor-not-found-find"]').attributes('href')).toBe('/find-doctor')
  })
})
