import { beforeEach, describe, expect, it } from 'vitest'

import RegionsPage from '@/pages/RegionsPage.vue'
import { makeApp, makeMe, mountInApp } from '@/test/app'
import { fakeNetwork, type FakeNetwork } from '@/test/fetchMock'

const ADMIN = makeMe({ roles: ['admin'] })

let network: FakeNetwork

beforeEach(() => {
  network = fakeNetwork()
  network.on('GET /api/v1/departments', { status: 200, body: [] })
})

describe('service regions', () => {
  it('shows how K was chosen and each region with its ratio and depot', async () => {
    network.on('GET /api/v1/matching/regions', {
      status: 200,
      body: {
        k: 2,
        chosen_by: 'silhouette',
        silhouette: 0.71,
        silhouette_by_k: { '2': 0.71, '3': 0.52 },
        since: '2026-08-28T00:00:00Z',
        until: '2026-11-26T00:00:00Z',
        demand_total: 300,
        doctors_total: 4,
        regions: [
          { index: 0, centroid: { lat: 31.2, lon: 121.4 }, depot: { lat: 31.21, lon: 121.41 }, demand: 200, doctors: 4, demand_per_doctor: 50, radius_km: 9.5 },
          { index: 1, centroid: { lat: 39.9, lon: 116.4 }, depot: { lat: 39.91, lon: 116.41 }, demand: 100, doctors: 0, demand_per_doctor: null, radius_km: 7.1 },
        ],
        points: [
          [31.2, 121.4, 0],
          [39.9, 116.4, 1],
        ],
        empty_reason: null,
      },
    })
    const wrapper = await mountInApp(RegionsPage, makeApp({ me: ADMIN, locale: 'en' }), { global: { stubs: { Echarts: true } } })

    expect(wrapper.get('[data-testid="regions-summary"]').text()).toContain('K = 2 (chosen by silhouette)')
    const table = wrapper.get('[data-testid="regions-table"]').text()
    expect(table).toContain('50.0')
    expect(table).toContain('no doctor')
    expect(table).toContain('39.910°N, 116.410°E')
    const query = new URL(network.to('GET /api/v1/matching/regions')[0]!.url, 'http://localhost').searchParams
    expect(query.get('k')).toBeNull()
    expect(query.get('since')).toMatch(/^\d{4}-\d{2}-\d{2}T/)
  })

  it('explains a period without enough demand', async () => {
    network.on('GET /api/v1/matching/regions', {
      status: 200,
      body: {
        k: null,
        chosen_by: null,
        silhouette: null,
        silhouette_by_k: {},
        since: '2026-08-28T00:00:00Z',
        until: '2026-11-26T00:00:00Z',
        demand_total: 1,
        doctors_total: 0,
        regions: [],
        points: [],
        empty_reason: 'not_enough_demand',
      },
    })
    const wrapper = await mountInApp(RegionsPage, makeApp({ me: ADMIN }), { global: { stubs: { Echarts: true } } })

    expect(wrapper.get('[data-testid="regions-empty"]').text()).toContain('需求太少')
  })
})
