/**
 * Who is signed in: the OAuth tokens (in memory only, never in Web Storage) and the account.
 * Signs in with authorization code + PKCE, refreshes silently before expiry, signs out by revoking.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import {
  AUTHORIZE_PATH,
  CALLBACK_PATH,
  CLIENT_ID,
  LOGOUT_PATH,
  REVOKE_PATH,
  SCOPE,
  TOKEN_PATH,
} from '@/features/auth/config'
import {
  OAuthError,
  authorizationCodeTokenBody,
  buildAuthorizeUrl,
  buildLogoutUrl,
  codeChallengeS256,
  generateCodeVerifier,
  generateState,
  parseAuthorizationResponse,
  refreshDelayMs,
  refreshTokenBody,
  revocationBody,
} from '@/features/auth/oauth'
import { markSignedIn, safeReturnPath, savePendingSignIn, takePendingSignIn } from '@/features/auth/pending'
import { ApiError, apiFetch, setApiAuthProvider } from '@/shared/api/client'
import type { Me } from '@/shared/api/schemas'
import { browser } from '@/shared/browser'

interface TokenResponse {
  access_token: string
  token_type: string
  expires_in: number
  refresh_token?: string
  id_token?: string
  scope?: string
}

/**
 * The code was exchanged for tokens, but loading the account afterwards failed: a different
 * failure from a refused exchange, so the callback page can say which step went wrong.
 */
export class AccountLoadError extends Error {
  /** What the account request failed with (usually an ApiError). */
  readonly reason: unknown

  constructor(reason: unknown) {
    super(reason instanceof Error ? reason.message : 'account_load_failed')
    this.name = 'AccountLoadError'
    this.reason = reason
  }
}

/** Seconds before expiry at which a request refreshes first instead of sending a dying token. */
const EXPIRY_GUARD_SECONDS = 10

async function postForm(path: string, body: URLSearchParams): Promise<Response> {
  try {
    return await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: body.toString(),
      credentials: 'same-origin',
    })
  } catch {
    throw new ApiError(0, 'network_error', 'network_error')
  }
}

/** RFC 6749 §5.2 error response → ApiError with the OAuth error code. */
async function tokenError(response: Response): Promise<ApiError> {
  let body: { error?: string; error_description?: string } = {}
  try {
    body = (await response.json()) as typeof body
  } catch {
    body = {}
  }
  const code = body.error ?? `http_${response.status}`
  return new ApiError(response.status, code, body.error_description ?? code)
}

export const useAuthStore = defineStore('auth', () => {
  const accessToken = ref<string | null>(null)
  const refreshToken = ref<string | null>(null)
  const idToken = ref<string | null>(null)
  /** Epoch milliseconds at which the access token expires. */
  const expiresAt = ref<number | null>(null)
  const me = ref<Me | null>(null)

  const isAuthenticated = computed(() => accessToken.value !== null)
  const roles = computed<string[]>(() => me.value?.roles ?? [])

  let refreshTimer: ReturnType<typeof setTimeout> | null = null
  let refreshInFlight: Promise<boolean> | null = null

  function redirectUri(): string {
    return `${browser.origin()}${CALLBACK_PATH}`
  }

  function cancelRefreshTimer(): void {
    if (refreshTimer !== null) clearTimeout(refreshTimer)
    refreshTimer = null
  }

  function clear(): void {
    cancelRefreshTimer()
    accessToken.value = null
    refreshToken.value = null
    idToken.value = null
    expiresAt.value = null
    me.value = null
  }

  function acceptTokens(tokens: TokenResponse): void {
    accessToken.value = tokens.access_token
    // Refresh tokens rotate: keep the new one; a response without one leaves the old one valid.
    if (tokens.refresh_token) refreshToken.value = tokens.refresh_token
    if (tokens.id_token) idToken.value = tokens.id_token
    expiresAt.value = Date.now() + tokens.expires_in * 1000
    cancelRefreshTimer()
    if (refreshToken.value) {
      refreshTimer = setTimeout(() => {
        void refresh()
      }, refreshDelayMs(tokens.expires_in))
    }
  }

  /** Leave for the authorization server; it shows its login page when there is no server session. */
  async function beginSignIn(returnTo = '/', uiLocales?: string): Promise<void> {
    const state = generateState()
    const codeVerifier = generateCodeVerifier()
    savePendingSignIn({ state, codeVerifier, returnTo: safeReturnPath(returnTo) })
    const url = buildAuthorizeUrl({
      authorizeEndpoint: `${browser.origin()}${AUTHORIZE_PATH}`,
      clientId: CLIENT_ID,
      redirectUri: redirectUri(),
      scope: SCOPE,
      state,
      codeChallenge: await codeChallengeS256(codeVerifier),
      uiLocales: uiLocales ?? (document.documentElement.lang || undefined),
    })
    browser.assign(url)
  }

  /** Finish on the redirect URI: check state, exchange the code, load the account. Returns where to go. */
  async function completeSignIn(query: string | URLSearchParams): Promise<string> {
    const pending = takePendingSignIn()
    if (!pending) {
      markSignedIn(false)
      throw new OAuthError('no_pending_sign_in', 'No sign-in was started in this browser tab.')
    }
    try {
      const { code } = parseAuthorizationResponse(query, pending.state)
      const body = authorizationCodeTokenBody({
        code,
        codeVerifier: pending.codeVerifier,
        redirectUri: redirectUri(),
        clientId: CLIENT_ID,
      })
      const response = await postForm(TOKEN_PATH, body)
      if (!response.ok) throw await tokenError(response)
      acceptTokens((await response.json()) as TokenResponse)
      try {
        await loadMe()
      } catch (error) {
        throw new AccountLoadError(error)
      }
    } catch (error) {
      clear()
      markSignedIn(false)
      throw error
    }
    markSignedIn(true)
    return pending.returnTo
  }

  async function doRefresh(): Promise<boolean> {
    const token = refreshToken.value
    if (!token) return false
    try {
      const response = await postForm(TOKEN_PATH, refreshTokenBody({ refreshToken: token, clientId: CLIENT_ID }))
      if (!response.ok) throw await tokenError(response)
      acceptTokens((await response.json()) as TokenResponse)
      return true
    } catch (error) {
      // A network failure keeps the session (the next request retries); a refused grant ends it.
      if (error instanceof ApiError && error.status === 0) return false
      clear()
      markSignedIn(false)
      return false
    }
  }

  /** One refresh at a time: concurrent callers share the request (refresh tokens are single-use). */
  function refresh(): Promise<boolean> {
    refreshInFlight ??= doRefresh().finally(() => {
      refreshInFlight = null
    })
    return refreshInFlight
  }

  async function validAccessToken(): Promise<string | null> {
    if (accessToken.value && expiresAt.value !== null && Date.now() >= expiresAt.value - EXPIRY_GUARD_SECONDS * 1000) {
      await refresh()
    }
    return accessToken.value
  }

  async function loadMe(): Promise<Me> {
    const account = await apiFetch<Me>('/me')
    me.value = account
    return account
  }

  function setMe(account: Me): void {
    me.value = account
  }

  /** Revoke the refresh token, then the access token (RFC 7009), then end the server session. */
  async function signOut(): Promise<void> {
    const tokens: [string | null, 'refresh_token' | 'access_token'][] = [
      [refreshToken.value, 'refresh_token'],
      [accessToken.value, 'access_token'],
    ]
    const hint = idToken.value
    for (const [token, tokenTypeHint] of tokens) {
      if (!token) continue
      try {
        await postForm(REVOKE_PATH, revocationBody({ token, tokenTypeHint, clientId: CLIENT_ID }))
      } catch {
        // Revocation is best effort: the server session still ends below and tokens leave memory.
      }
    }
    clear()
    markSignedIn(false)
    browser.assign(
      buildLogoutUrl({
        logoutEndpoint: `${browser.origin()}${LOGOUT_PATH}`,
        idTokenHint: hint,
        postLogoutRedirectUri: `${browser.origin()}/`,
        clientId: CLIENT_ID,
      }),
    )
  }

  setApiAuthProvider({
    accessToken: validAccessToken,
    refreshAfterUnauthorized: refresh,
  })

  return {
    accessToken,
    refreshToken,
    idToken,
    expiresAt,
    me,
    isAuthenticated,
    roles,
    beginSignIn,
    completeSignIn,
    refresh,
    loadMe,
    setMe,
    signOut,
    clear,
  }
})
