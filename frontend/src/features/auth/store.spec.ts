import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { codeChallengeS256 } from '@/features/auth/oauth'
import { wasSignedIn } from '@/features/auth/pending'
import { useAuthStore } from '@/features/auth/store'
import { ApiError, apiFetch } from '@/shared/api/client'
import { browser } from '@/shared/browser'
import { fakeNetwork, type FakeNetwork } from '@/test/fetchMock'
import { makeMe } from '@/test/app'

const ORIGIN = window.location.origin
const TOKENS = { access_token: 'access-1', refresh_token: 'refresh-1', id_token: 'id-1', token_type: 'Bearer', expires_in: 3600 }

let network: FakeNetwork
let assigned: string[]

beforeEach(() => {
  setActivePinia(createPinia())
  sessionStorage.clear()
  localStorage.clear()
  network = fakeNetwork()
  assigned = []
  vi.spyOn(browser, 'assign').mockImplementation((url: string) => {
    assigned.push(url)
  })
})

afterEach(() => {
  vi.useRealTimers()
})

/** Start a sign-in and answer the callback as the server would. */
async function signInThroughCallback(): Promise<ReturnType<typeof useAuthStore>> {
  const auth = useAuthStore()
  await auth.beginSignIn('/profile')
  const state = new URL(assigned[0]!).searchParams.get('state')!
  network.on('POST /o/token/', { status: 200, body: TOKENS }).on('GET /api/v1/me', { status: 200, body: makeMe() })
  await auth.completeSignIn(`?code=the-code&state=${state}`)
  return auth
}

describe('sign-in with authorization code + PKCE', () => {
  it('sends the browser to /o/authorize with an S256 challenge of the stored verifier', async () => {
    const auth = useAuthStore()
    document.documentElement.lang = 'en'
    await auth.beginSignIn('/profile')

    expect(assigned).toHaveLength(1)
    const url = new URL(assigned[0]!)
    expect(url.origin + url.pathname).toBe(`${ORIGIN}/o/authorize/`)
    const pending = JSON.parse(sessionStorage.getItem('yunyi.oauth.pending')!) as Record<string, string>
    expect(pending.returnTo).toBe('/profile')
    expect(pending.codeVerifier).toMatch(/^[A-Za-z0-9\-._~]{64}$/)
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'yunyi-web',
      redirect_uri: `${ORIGIN}/auth/callback`,
      scope: 'openid profile fhirUser offline_access patient/*.rs user/*.rs',
      state: pending.state,
      code_challenge: await codeChallengeS256(pending.codeVerifier!),
      code_challenge_method: 'S256',
      ui_locales: 'en',
    })
  })

  it('exchanges the code with the verifier and keeps tokens in memory only', async () => {
    const auth = useAuthStore()
    await auth.beginSignIn('/profile')
    const pending = JSON.parse(sessionStorage.getItem('yunyi.oauth.pending')!) as Record<string, string>
    network.on('POST /o/token/', { status: 200, body: TOKENS }).on('GET /api/v1/me', { status: 200, body: makeMe() })

    const returnTo = await auth.completeSignIn(`?code=the-code&state=${pending.state}`)

    expect(returnTo).toBe('/profile')
    expect(network.form(network.to('POST /o/token/')[0]!)).toEqual({
      grant_type: 'authorization_code',
      code: 'the-code',
      code_verifier: pending.codeVerifier,
      redirect_uri: `${ORIGIN}/auth/callback`,
      client_id: 'yunyi-web',
    })
    expect(network.to('GET /api/v1/me')[0]!.headers.authorization).toBe('Bearer access-1')
    expect(auth.accessToken).toBe('access-1')
    expect(auth.refreshToken).toBe('refresh-1')
    expect(auth.me?.display_name).toBe('张三')
    expect(localStorage.length).toBe(0)
    expect(sessionStorage.getItem('yunyi.oauth.pending')).toBeNull()
    expect(JSON.stringify({ ...sessionStorage })).not.toContain('access-1')
    expect(wasSignedIn()).toBe(true)
  })

  it('refuses a callback whose state does not match and requests no token', async () => {
    const auth = useAuthStore()
    await auth.beginSignIn('/')

    await expect(auth.completeSignIn('?code=stolen&state=forged')).rejects.toMatchObject({ code: 'state_mismatch' })
    expect(network.requests).toHaveLength(0)
    expect(auth.isAuthenticated).toBe(false)
    expect(wasSignedIn()).toBe(false)
  })

  it('completes a callback only once', async () => {
    const auth = await signInThroughCallback()
    auth.clear()
    await expect(auth.completeSignIn('?code=the-code&state=x')).rejects.toMatchObject({ code: 'no_pending_sign_in' })
    expect(network.to('POST /o/token/')).toHaveLength(1)
  })

  it('reports a refused code exchange with the OAuth error code', async () => {
    const auth = useAuthStore()
    await auth.beginSignIn('/')
    const state = new URL(assigned[0]!).searchParams.get('state')!
    network.on('POST /o/token/', { status: 400, body: { error: 'invalid_grant', error_description: 'Code expired' } })

    await expect(auth.completeSignIn(`?code=old&state=${state}`)).rejects.toMatchObject({ code: 'invalid_grant', status: 400 })
    expect(auth.accessToken).toBeNull()
  })

  it('only returns to paths inside the app', async () => {
    const auth = useAuthStore()
    await auth.beginSignIn('//evil.example/')
    expect((JSON.parse(sessionStorage.getItem('yunyi.oauth.pending')!) as Record<string, string>).returnTo).toBe('/')
  })
})

describe('silent refresh', () => {
  it('refreshes on a timer before the access token expires and keeps the rotated refresh token', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const auth = await signInThroughCallback()
    network.on('POST /o/token/', { status: 200, body: { ...TOKENS, access_token: 'access-2', refresh_token: 'refresh-2' } })

    await vi.advanceTimersByTimeAsync(2_879_000)
    expect(network.to('POST /o/token/')).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1_000)

    const refreshCall = network.to('POST /o/token/')[1]!
    expect(network.form(refreshCall)).toEqual({ grant_type: 'refresh_token', refresh_token: 'refresh-1', client_id: 'yunyi-web' })
    expect(auth.accessToken).toBe('access-2')
    expect(auth.refreshToken).toBe('refresh-2')
  })

  it('retries an API call once with a refreshed token after a 401', async () => {
    await signInThroughCallback()
    network
      .on('GET /api/v1/me/wards', { status: 401, body: { error: { code: 'not_authenticated', message: 'Sign in' } } })
      .on('GET /api/v1/me/wards', { status: 200, body: [] })
      .on('POST /o/token/', { status: 200, body: { ...TOKENS, access_token: 'access-2', refresh_token: 'refresh-2' } })

    await expect(apiFetch('/me/wards')).resolves.toEqual([])
    const calls = network.to('GET /api/v1/me/wards')
    expect(calls.map((c) => c.headers.authorization)).toEqual(['Bearer access-1', 'Bearer access-2'])
  })

  it('does not retry a second time and signs out locally when the refresh is refused', async () => {
    const auth = await signInThroughCallback()
    network
      .on('GET /api/v1/me/wards', { status: 401, body: { error: { code: 'not_authenticated', message: 'Sign in' } } })
      .on('POST /o/token/', { status: 400, body: { error: 'invalid_grant' } })

    await expect(apiFetch('/me/wards')).rejects.toBeInstanceOf(ApiError)
    expect(network.to('GET /api/v1/me/wards')).toHaveLength(1)
    expect(auth.isAuthenticated).toBe(false)
    expect(auth.me).toBeNull()
    expect(wasSignedIn()).toBe(false)
  })

  it('shares one refresh between concurrent callers', async () => {
    const auth = await signInThroughCallback()
    network.on('POST /o/token/', { status: 200, body: { ...TOKENS, access_token: 'access-2' } })

    const results = await Promise.all([auth.refresh(), auth.refresh(), auth.refresh()])

    expect(results).toEqual([true, true, true])
    expect(network.to('POST /o/token/')).toHaveLength(2)
  })

  it('refreshes first when the token is about to expire', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const auth = await signInThroughCallback()
    vi.setSystemTime(Date.now() + 3_595_000)
    network
      .on('POST /o/token/', { status: 200, body: { ...TOKENS, access_token: 'access-2' } })
      .on('GET /api/v1/me/wards', { status: 200, body: [] })

    await apiFetch('/me/wards')

    expect(network.to('GET /api/v1/me/wards')[0]!.headers.authorization).toBe('Bearer access-2')
    expect(auth.accessToken).toBe('access-2')
  })
})

describe('sign-out', () => {
  it('revokes the refresh token, then the access token, then ends the server session', async () => {
    const auth = await signInThroughCallback()
    network.on('POST /o/revoke_token/', { status: 200 })
    assigned.length = 0

    await auth.signOut()

    const revocations = network.to('POST /o/revoke_token/').map((r) => network.form(r))
    expect(revocations).toEqual([
      { token: 'refresh-1', token_type_hint: 'refresh_token', client_id: 'yunyi-web' },
      { token: 'access-1', token_type_hint: 'access_token', client_id: 'yunyi-web' },
    ])
    expect(auth.accessToken).toBeNull()
    expect(auth.refreshToken).toBeNull()
    expect(auth.me).toBeNull()
    expect(wasSignedIn()).toBe(false)
    const logout = new URL(assigned[0]!)
    expect(logout.pathname).toBe('/o/logout/')
    expect(Object.fromEntries(logout.searchParams)).toEqual({
      id_token_hint: 'id-1',
      post_logout_redirect_uri: `${ORIGIN}/`,
      client_id: 'yunyi-web',
    })
  })

  it('still leaves when revocation cannot reach the server', async () => {
    const auth = await signInThroughCallback()
    vi.stubGlobal('fetch', vi.fn(() => Promise.reject(new TypeError('offline'))))
    assigned.length = 0

    await auth.signOut()

    expect(auth.isAuthenticated).toBe(false)
    expect(new URL(assigned[0]!).pathname).toBe('/o/logout/')
  })
})
