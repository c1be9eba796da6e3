import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'

import LicenceReviewPage from '@/pages/LicenceReviewPage.vue'
import { makeApp, makeMe, mountInApp } from '@/test/app'
import { fakeNetwork, type FakeNetwork } from '@/test/fetchMock'

const LICENCE = {
  id: '1e0c3d3e-0000-4000-8000-000000000007',
  doctor_id: '9d0c3d3e-0000-4000-8000-000000000042',
  doctor_name: '李医生',
  department: 'cardiology',
  hospital: '北京市第3人民医院',
  number_masked: '44*********0001',
  status: 'pending',
  reason: '',
  submitted_at: '2026-11-26T08:00:00Z',
  reviewed_at: null,
  document_count: 1,
}
let network: FakeNetwork

beforeEach(() => {
  network = fakeNetwork()
  network.on('GET /api/v1/departments', { status: 200, body: [{ code: 'cardiology', zh: '心血管内科', en: 'Cardiology', nhc_code: '03.04' }] })
})

async function mountPage() {
  return mountInApp(LicenceReviewPage, makeApp({ me: makeMe({ roles: ['admin'] }) }))
}

describe('licence review', () => {
  it('lists pending licences and sends a rejection only with a reason', async () => {
    network
      .on('GET /api/v1/licences', { status: 200, body: { count: 1, limit: 50, offset: 0, items: [LICENCE] } })
      .on('GET /api/v1/licences', { status: 200, body: { count: 0, limit: 50, offset: 0, items: [] } })
      .on(`POST /api/v1/licences/${LICENCE.id}/decision`, { status: 200, body: { ...LICENCE, status: 'rejected', reason: '照片不清晰' } })
    const wrapper = await mountPage()

    const table = wrapper.get('[data-testid="review-table"]')
    expect(table.text()).toContain('李医生')
    expect(table.text()).toContain('心血管内科')
    expect(new URL(network.to('GET /api/v1/licences')[0]!.url, 'http://x').searchParams.get('status')).toBe('pending')

    await wrapper.get(`[data-testid="review-decide-${LICENCE.id}"]`).trigger('click')
    await flushPromises()
    const dialog = document.body.querySelector('[data-testid="review-dialog"]') ?? document.body
    const reject = [...dialog.querySelectorAll('label')].find((label) => label.textContent?.includes('驳回'))
    reject?.querySelector('input')?.click()
    await flushPromises()
    const confirm = document.body.querySelector<HTMLButtonElement>('[data-testid="review-confirm"]')!
    expect(confirm.disabled).toBe(true)

    const reason = document.body.querySelector<HTMLTextAreaElement>('textarea[data-testid="review-reason"]')!
    reason.value = '照片不清晰'
    reason.dispatchEvent(new Event('input'))
    await flushPromises()
    expect(confirm.disabled).toBe(false)
    confirm.click()
    await flushPromises()

    const sent = network.to(`POST /api/v1/licences/${LICENCE.id}/decision`)
    expect(sent.map((r) => network.json(r))).toEqual([{ decision: 'reject', reason: '照片不清晰' }])
    expect(network.to('GET /api/v1/licences')).toHaveLength(2)
  })
})
