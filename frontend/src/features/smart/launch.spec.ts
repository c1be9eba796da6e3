import { describe, expect, it, vi } from 'vitest'

import { isLaunchUrl, launchInNewTab, sortedApps, type LaunchTab } from '@/features/smart/launch'

function fakeTab(): LaunchTab & { closed: boolean } {
  return {
    opener: { chart: true },
    location: { href: 'about:blank' },
    closed: false,
    close() {
      this.closed = true
    },
  }
}

const URL_OK = 'https://app.example/launch?iss=https%3A%2F%2Fyunyi.example%2Ffhir%2FR4&launch=abc'

describe('isLaunchUrl', () => {
  it('accepts absolute http(s) URLs only', () => {
    expect(isLaunchUrl(URL_OK)).toBe(true)
    expect(isLaunchUrl('http://localhost:9000/launch?launch=x')).toBe(true)
    expect(isLaunchUrl('javascript:alert(1)')).toBe(false)
    expect(isLaunchUrl('/relative/launch')).toBe(false)
    expect(isLaunchUrl('')).toBe(false)
  })
})

describe('launchInNewTab', () => {
  it('opens the tab before starting, cuts the opener and navigates to the launch URL', async () => {
    const tab = fakeTab()
    const order: string[] = []
    const outcome = await launchInNewTab(
      () => {
        order.push('open')
        return tab
      },
      () => {
        order.push('start')
        return Promise.resolve({ launch_url: URL_OK })
      },
    )
    expect(outcome).toBe('opened')
    expect(order).toEqual(['open', 'start'])
    expect(tab.opener).toBeNull()
    expect(tab.location.href).toBe(URL_OK)
    expect(tab.closed).toBe(false)
  })

  it('does not start a launch when the browser blocks the tab', async () => {
    const start = vi.fn()
    expect(await launchInNewTab(() => null, start)).toBe('blocked')
    expect(start).not.toHaveBeenCalled()
  })

  it('closes the tab and rethrows when the launch is refused', async () => {
    const tab = fakeTab()
    const refused = new Error('forbidden')
    await expect(launchInNewTab(() => tab, () => Promise.reject(refused))).rejects.toBe(refused)
    expect(tab.closed).toBe(true)
    expect(tab.location.href).toBe('about:blank')
  })

  it('never follows a launch URL that is not http(s)', async () => {
    const tab = fakeTab()
    const outcome = await launchInNewTab(() => tab, () => Promise.resolve({ launch_url: 'javascript:alert(1)' }))
    expect(outcome).toBe('failed')
    expect(tab.closed).toBe(true)
    expect(tab.location.href).toBe('about:blank')
  })
})

describe('sortedApps', () => {
  it('sorts by name without changing the input', () => {
    const apps = [{ name: 'Zeta' }, { name: 'alpha' }, { name: 'Beta' }]
    expect(sortedApps(apps, 'en').map((a) => a.name)).toEqual(['alpha', 'Beta', 'Zeta'])
    expect(apps[0]?.name).toBe('Zeta')
  })
})
