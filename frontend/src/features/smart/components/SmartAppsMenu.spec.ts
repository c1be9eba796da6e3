import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'

import SmartAppsMenu from '@/features/smart/components/SmartAppsMenu.vue'
import { makeApp, makeMe, mountInApp } from '@/test/app'
import { fakeNetwork } from '@/test/fetchMock'

const DOCTOR = makeMe({ roles: ['doctor'] })
const LAUNCH_URL = 'https://growth.example/launch?iss=http%3A%2F%2Flocalhost%2Ffhir%2FR4&launch=L1'

afterEach(() => {
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
  document.body.innerHTML = ''
})

describe('SmartAppsMenu', () => {
  it('lists launchable apps and launches the chosen one for the chart patient in a new tab', async () => {
    const network = fakeNetwork()
      .on('GET /api/v1/smart/apps', { status: 200, body: [{ client_id: 'growth', name: 'Growth charts' }] })
      .on('POST /api/v1/smart/launches', { status: 201, body: { launch_url: LAUNCH_URL, expires_in: 300 } })
    const tab = { opener: {} as unknown, location: { href: 'about:blank' }, close: vi.fn() }
    const open = vi.spyOn(window, 'open').mockReturnValue(tab as unknown as Window)
    const wrapper = await mountInApp(SmartAppsMenu, makeApp({ me: DOCTOR }), { props: { patientId: 'p-7' } })

    expect(wrapper.find('[data-testid="smart-apps"]').text()).toContain('应用')
    await wrapper.find('[data-testid="smart-apps"]').trigger('click')
    await flushPromises()
    const item = document.querySelector<HTMLElement>('[data-testid="smart-app-growth"]')
    expect(item?.textContent).toContain('Growth charts')
    item?.click()
    await flushPromises()

    expect(open).toHaveBeenCalledOnce()
    const [launch] = network.to('POST /api/v1/smart/launches')
    expect(launch && network.json(launch)).toEqual({ client_id: 'growth', patient: 'p-7' })
    expect(tab.location.href).toBe(LAUNCH_URL)
    expect(tab.opener).toBeNull()
  })

  it('shows nothing when no app can be launched', async () => {
    fakeNetwork().on('GET /api/v1/smart/apps', { status: 403, body: { error: { code: 'permission_denied', message: 'No.' } } })
    const wrapper = await mountInApp(SmartAppsMenu, makeApp({ me: DOCTOR }), { props: { patientId: 'p-7' } })
    expect(wrapper.find('[data-testid="smart-apps"]').exists()).toBe(false)
  })
})
