import { beforeEach, describe, expect, it, vi } from 'vitest'

import { markSignedIn } from '@/features/auth/pending'
import { browser } from '@/shared/browser'
import { makeApp, makeMe } from '@/test/app'
import { fakeNetwork } from '@/test/fetchMock'

let assigned: string[]

beforeEach(() => {
  sessionStorage.clear()
  fakeNetwork()
  assigned = []
  vi.spyOn(browser, 'assign').mockImplementation((url: string) => {
    assigned.push(url)
  })
})

describe('route guards', () => {
  it('sends a signed-out visitor of /profile through /o/authorize, returning to /profile', async () => {
    const { router } = makeApp()
    await router.push('/profile')

    expect(assigned).toHaveLength(1)
    expect(new URL(assigned[0]!).pathname).toBe('/o/authorize/')
    expect((JSON.parse(sessionStorage.getItem('yunyi.oauth.pending')!) as { returnTo: string }).returnTo).toBe('/profile')
    expect(router.currentRoute.value.fullPath).toBe('/')
  })

  it('lets a signed-out visitor see the public pages', async () => {
    const { router } = makeApp()
    for (const path of ['/', '/signin', '/register', '/no-such-page']) {
      await router.push(path)
      expect(router.currentRoute.value.fullPath).toBe(path)
    }
    expect(router.currentRoute.value.name).toBe('not-found')
    expect(assigned).toHaveLength(0)
  })

  it('signs a reloaded tab that was signed in back in silently, on any page', async () => {
    markSignedIn(true)
    const { router } = makeApp()
    await router.push('/register')
    expect(assigned).toHaveLength(1)
  })

  it('never starts a sign-in from the callback page', async () => {
    markSignedIn(true)
    const { router } = makeApp()
    await router.push('/auth/callback?code=x&state=y')
    expect(assigned).toHaveLength(0)
    expect(router.currentRoute.value.name).toBe('auth-callback')
  })

  it('lets a signed-in user open the profile', async () => {
    const { router } = makeApp({ me: makeMe() })
    await router.push('/profile')
    expect(router.currentRoute.value.fullPath).toBe('/profile')
    expect(assigned).toHaveLength(0)
  })
})

describe('a page whose code is gone after a deploy', () => {
  const stale = () => Promise.reject(new TypeError('Failed to fetch dynamically imported module: http://x/assets/Page-abc.js'))

  it('reloads the tab once at the page it was going to', async () => {
    const { router } = makeApp({ me: makeMe() })
    router.addRoute({ path: '/stale', component: stale })

    await router.push('/stale').catch(() => undefined)
    expect(assigned).toEqual(['/stale'])
    // Still failing after the reload (the server is down, not updated): no reload loop.
    await router.push('/stale').catch(() => undefined)
    expect(assigned).toEqual(['/stale'])
  })

  it('leaves other navigation errors alone', async () => {
    const { router } = makeApp({ me: makeMe() })
    router.addRoute({ path: '/broken', component: () => Promise.reject(new Error('render failed')) })

    await router.push('/broken').catch(() => undefined)
    expect(assigned).toEqual([])
  })
})
