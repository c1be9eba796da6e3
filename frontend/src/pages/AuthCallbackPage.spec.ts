import { beforeEach, describe, expect, it, vi } from 'vitest'

import { savePendingSignIn, wasSignedIn } from '@/features/auth/pending'
import { useAuthStore } from '@/features/auth/store'
import AuthCallbackPage from '@/pages/AuthCallbackPage.vue'
import { makeApp, makeMe, mountInApp } from '@/test/app'
import { fakeNetwork, type FakeNetwork } from '@/test/fetchMock'

let network: FakeNetwork

beforeEach(() => {
  document.body.innerHTML = ''
  sessionStorage.clear()
  network = fakeNetwork()
})

function arriveAt(search: string): void {
  window.history.replaceState(null, '', `/auth/callback${search}`)
}

describe('OAuth callback page', () => {
  it('exchanges the code and goes where the sign-in started', async () => {
    savePendingSignIn({ state: 'st-1', codeVerifier: 'v'.repeat(64), returnTo: '/profile' })
    arriveAt('?code=c-1&state=st-1')
    network
      .on('POST /o/token/', { status: 200, body: { access_token: 'a', refresh_token: 'r', id_token: 'i', token_type: 'Bearer', expires_in: 3600 } })
      .on('GET /api/v1/me', { status: 200, body: makeMe() })
      .on('GET /api/v1/me/wards', { status: 200, body: [] })
    const context = makeApp()
    await mountInApp(AuthCallbackPage, context)

    await vi.waitFor(() => expect(context.router.currentRoute.value.fullPath).toBe('/profile'))
    expect(useAuthStore(context.pinia).me?.username).toBe('13800138000')
    expect(wasSignedIn()).toBe(true)
  })

  it('shows a state mismatch and removes code and state from the address bar', async () => {
    savePendingSignIn({ state: 'st-1', codeVerifier: 'v'.repeat(64), returnTo: '/' })
    arriveAt('?code=c-1&state=forged')
    const wrapper = await mountInApp(AuthCallbackPage, makeApp())

    await vi.waitFor(() => expect(wrapper.find('[data-testid="callback-error"]').exists()).toBe(true))
    expect(wrapper.get('[data-testid="callback-error"]').text()).toContain('登录响应与本次浏览器会话不符')
    expect(network.requests).toHaveLength(0)
    expect(window.location.search).toBe('')
  })

  it('shows the error the authorization server returned', async () => {
    savePendingSignIn({ state: 'st-1', codeVerifier: 'v'.repeat(64), returnTo: '/' })
    arriveAt('?error=access_denied&error_description=User%20cancelled&state=st-1')
    const wrapper = await mountInApp(AuthCallbackPage, makeApp({ locale: 'en' }))

    await vi.waitFor(() => expect(wrapper.find('[data-testid="callback-error"]').exists()).toBe(true))
    expect(wrapper.get('[data-testid="callback-error"]').text()).toContain('Sign-in was refused or cancelled.')
    expect(wrapper.get('[data-testid="callback-error-detail"]').text()).toBe('access_denied: User cancelled')
  })

  it('shows a refused code exchange', async () => {
    savePendingSignIn({ state: 'st-1', codeVerifier: 'v'.repeat(64), returnTo: '/' })
    arriveAt('?code=reused&state=st-1')
    network.on('POST /o/token/', { status: 400, body: { error: 'invalid_grant' } })
    const wrapper = await mountInApp(AuthCallbackPage, makeApp())

    await vi.waitFor(() => expect(wrapper.find('[data-testid="callback-error"]').exists()).toBe(true))
    expect(wrapper.get('[data-testid="callback-error-detail"]').text()).toBe('invalid_grant: invalid_grant')
    expect(useAuthStore().isAuthenticated).toBe(false)
  })

  it('tells a failed account load apart from a refused code exchange', async () => {
    savePendingSignIn({ state: 'st-1', codeVerifier: 'v'.repeat(64), returnTo: '/' })
    arriveAt('?code=c-1&state=st-1')
    network
      .on('POST /o/token/', { status: 200, body: { access_token: 'a', refresh_token: 'r', id_token: 'i', token_type: 'Bearer', expires_in: 3600 } })
      .on('GET /api/v1/me', { status: 503, body: { error: { code: 'unavailable', message: 'Try later.' } } })
    const wrapper = await mountInApp(AuthCallbackPage, makeApp({ locale: 'en' }))

    await vi.waitFor(() => expect(wrapper.find('[data-testid="callback-error"]').exists()).toBe(true))
    expect(wrapper.get('[data-testid="callback-error"]').text()).toContain(
      'You were signed in, but your account details could not be loaded. Please sign in again in a moment.',
    )
    expect(wrapper.get('[data-testid="callback-error"]').text()).not.toContain('could not be exchanged')
    expect(wrapper.get('[data-testid="callback-error-detail"]').text()).toBe('unavailable: Try later.')
    expect(useAuthStore().isAuthenticated).toBe(false)
    expect(wasSignedIn()).toBe(false)
  })
})
