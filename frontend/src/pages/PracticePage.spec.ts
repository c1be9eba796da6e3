import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'

import PracticePage from '@/pages/PracticePage.vue'
import { makeApp, makeMe, mountInApp } from '@/test/app'
import { fakeNetwork, type FakeNetwork } from '@/test/fetchMock'

const ME = makeMe({ roles: ['doctor'], display_name: '王医生' })
let network: FakeNetwork

const PROFILE = {
  id: ME.id,
  display_name: '王医生',
  title: 'attending',
  department: 'cardiology',
  hospital: '安贞医院',
  practice_address: '',
  city: '北京',
  latitude: 39.97,
  longitude: 116.4,
  languages: ['zh'],
  fees: { video: 4000 },
  service_radius_km: 10,
  max_service_radius_km: 50,
  daily_capacity: 20,
  gender: '',
  bio: '',
  time_zone: 'Asia/Shanghai',
  photo_url: null,
  is_verified: false,
  rating: null,
  rating_count: 0,
  updated_at: '2026-11-26T08:00:00Z',
  licence: { id: 'l1', number_masked: '11*********0002', status: 'rejected', reason: '照片不清晰', submitted_at: '2026-11-20T08:00:00Z', reviewed_at: '2026-11-21T08:00:00Z', document_count: 1 },
  presence: { status: 'offline', last_seen: null, queue_room: 5 },
}
const SCHEDULE = {
  time_zone: 'Asia/Shanghai',
  templates: [{ weekday: 0, start_time: '09:00:00', end_time: '12:00:00', slot_minutes: 30, modes: ['video'] }],
  exceptions: [],
}

beforeEach(() => {
  network = fakeNetwork()
  network.on('GET /api/v1/departments', { status: 200, body: [{ code: 'cardiology', zh: '心血管内科', en: 'Cardiology', nhc_code: '03.04' }] })
})

describe('my practice', () => {
  it('offers only the profile form to a doctor without a profile, prefilled with their name', async () => {
    network.on('GET /api/v1/doctors/me/profile', { status: 409, body: { error: { code: 'profile_missing', message: '请先填写医生资料。' } } })
    const wrapper = await mountInApp(PracticePage, makeApp({ me: ME }))

    expect(wrapper.find('[data-testid="practice-profile"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="practice-schedule"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="practice-licence"]').exists()).toBe(false)
    expect(wrapper.get<HTMLInputElement>('input[data-testid="profile-display-name"]').element.value).toBe('王医生')
    expect(wrapper.find('[role="alert"]').exists()).toBe(false)
  })

  it('shows the rejection reason, lets the doctor resubmit, and flags a non-dividing block before saving', async () => {
    network.on('GET /api/v1/doctors/me/profile', { status: 200, body: PROFILE }).on('GET /api/v1/doctors/me/schedule', { status: 200, body: SCHEDULE })
    const wrapper = await mountInApp(PracticePage, makeApp({ me: ME }))

    expect(wrapper.get('[data-testid="licence-status"]').text()).toBe('已驳回')
    expect(wrapper.get('[data-testid="licence-reason"]').text()).toContain('照片不清晰')
    expect(wrapper.find('[data-testid="licence-submit"]').exists()).toBe(true)
    expect(wrapper.get<HTMLInputElement>('input[data-testid="schedule-start-0"]').element.value).toBe('09:00')

    await wrapper.get('input[data-testid="schedule-end-0"]').setValue('11:50')
    await flushPromises()
    expect(wrapper.get('[data-testid="schedule-problem-0"]').text()).toBe('号源时长必须能整除时段长度')
    expect(wrapper.get<HTMLButtonElement>('[data-testid="schedule-save"]').element.disabled).toBe(true)
    expect(network.to('PUT /api/v1/doctors/me/schedule')).toHaveLength(0)
  })
})
