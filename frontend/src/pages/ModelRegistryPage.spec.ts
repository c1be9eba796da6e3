import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import ModelRegistryPage from '@/pages/ModelRegistryPage.vue'
import { makeApp, makeMe, mountInApp } from '@/test/app'
import { fakeNetwork, type FakeNetwork } from '@/test/fetchMock'

const ADMIN = makeMe({ roles: ['admin'] })
const interval = (value: number) => ({ value, low: value - 0.05, high: value + 0.05 })

function version(id: number, active: boolean) {
  return {
    id,
    task: 'pima_diabetes',
    version: `v${id}`,
    title: { en: 'Diabetes', zh: '糖尿病风险' },
    is_active: active,
    created_at: '2026-11-26T00:00:00Z',
    trained_at: '2026-11-26T00:00:00+00:00',
    training_seconds: 3.1,
    threshold: 0.3,
    counts: {},
    metrics: [{ metric: 'auroc', model: interval(0.84), baseline: interval(0.85), published: null, published_source: null }],
    published: [{ source: 'Ripley 1996', note: 'same split', metric: 'accuracy', value: 0.8 }],
    plots: ['roc'],
  }
}

let network: FakeNetwork

beforeEach(() => {
  network = fakeNetwork()
  vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:plot', revokeObjectURL: () => undefined }))
  network.on('GET /api/v1/diagnosis/monitoring', {
    status: 200,
    body: [{ model: { id: 1, version: 'v1' }, task: 'pima_diabetes', is_active: true, shown: 4, accepted: 2, dismissed: 1, pending: 1, acceptance_rate: 0.6667 }],
  })
  network.on('GET /api/v1/diagnosis/models/1/plots/roc', { status: 200, body: 'png' })
  network.on('GET /api/v1/diagnosis/models/2/plots/roc', { status: 200, body: 'png' })
})

describe('model registry', () => {
  it('shows versions with metrics, plots and feedback, and activates another version', async () => {
    network.on('GET /api/v1/diagnosis/models', { status: 200, body: [version(1, true), version(2, false)] })
    network.on('GET /api/v1/diagnosis/models', { status: 200, body: [version(1, false), version(2, true)] })
    network.on('POST /api/v1/diagnosis/models/2/activate', { status: 200, body: version(2, true) })
    const wrapper = await mountInApp(ModelRegistryPage, makeApp({ me: ADMIN, locale: 'en' }))

    const first = wrapper.get('[data-testid="version-1"]')
    expect(first.find('[data-testid="version-active"]').exists()).toBe(true)
    expect(first.text()).toContain('0.840 (0.790–0.890)')
    expect(first.get('[data-testid="version-feedback"]').text()).toContain('Acceptance rate 67%')
    expect(first.get('[data-testid="plot-1-roc"]').attributes('src')).toBe('blob:plot')
    expect(network.to('GET /api/v1/diagnosis/models/1/plots/roc')[0]!.headers.authorization).toBe('Bearer access-1')

    await wrapper.get('[data-testid="activate-2"]').trigger('click')
    await flushPromises()
    expect(network.to('POST /api/v1/diagnosis/models/2/activate')).toHaveLength(1)
    expect(wrapper.get('[data-testid="version-2"]').find('[data-testid="version-active"]').exists()).toBe(true)
  })
})
