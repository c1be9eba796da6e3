import { describe, expect, it } from 'vitest'

import {
  OAuthError,
  VERIFIER_CHARSET,
  authorizationCodeTokenBody,
  base64UrlEncode,
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

describe('code verifier (RFC 7636 §4.1)', () => {
  it('is 64 unreserved characters by default', () => {
    const verifier = generateCodeVerifier()
    expect(verifier).toHaveLength(64)
    expect(verifier).toMatch(/^[A-Za-z0-9\-._~]+$/)
  })

  it('honours the 43 and 128 character bounds', () => {
    expect(generateCodeVerifier(43)).toHaveLength(43)
    expect(generateCodeVerifier(128)).toHaveLength(128)
    expect(() => generateCodeVerifier(42)).toThrow(RangeError)
    expect(() => generateCodeVerifier(129)).toThrow(RangeError)
  })

  it('uses only the 66 unreserved characters and differs on every call', () => {
    expect(VERIFIER_CHARSET).toHaveLength(66)
    const verifiers = new Set(Array.from({ length: 50 }, () => generateCodeVerifier()))
    expect(verifiers.size).toBe(50)
    for (const verifier of verifiers) {
      for (const char of verifier) expect(VERIFIER_CHARSET).toContain(char)
    }
  })
})

describe('S256 code challenge (RFC 7636 §4.2)', () => {
  it('matches the RFC 7636 Appendix B test vector', async () => {
    await expect(codeChallengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).resolves.toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    )
  })

  it('encodes base64url without padding (RFC 7636 Appendix A)', () => {
    expect(base64UrlEncode(new Uint8Array([251, 255, 191]))).toBe('-_-_')
    expect(base64UrlEncode(new Uint8Array([1]))).toBe('AQ')
  })
})

describe('state and authorization response (RFC 6749 §4.1.2, §10.12)', () => {
  it('generates a 43-character base64url state', () => {
    expect(generateState()).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(generateState()).not.toBe(generateState())
  })

  it('returns the code when the state matches', () => {
    expect(parseAuthorizationResponse('?code=abc&state=s1', 's1')).toEqual({ code: 'abc' })
  })

  it('rejects a response whose state differs', () => {
    expect(() => parseAuthorizationResponse('?code=abc&state=forged', 's1')).toThrowError(
      expect.objectContaining({ code: 'state_mismatch' }) as Error,
    )
  })

  it('rejects a response without state, and an empty expected state', () => {
    expect(() => parseAuthorizationResponse('?code=abc', 's1')).toThrow(OAuthError)
    expect(() => parseAuthorizationResponse('?code=abc&state=', '')).toThrowError(
      expect.objectContaining({ code: 'state_mismatch' }) as Error,
    )
  })

  it('checks the state before reporting a server error', () => {
    expect(() => parseAuthorizationResponse('?error=access_denied&state=forged', 's1')).toThrowError(
      expect.objectContaining({ code: 'state_mismatch' }) as Error,
    )
    expect(() => parseAuthorizationResponse('?error=access_denied&error_description=No&state=s1', 's1')).toThrowError(
      expect.objectContaining({ code: 'authorization_denied', serverError: 'access_denied', message: 'No' }) as Error,
    )
  })

  it('rejects a response without a code', () => {
    expect(() => parseAuthorizationResponse('?state=s1', 's1')).toThrowError(
      expect.objectContaining({ code: 'missing_code' }) as Error,
    )
  })
})

describe('request building', () => {
  it('builds the authorize URL with PKCE S256 and ui_locales', () => {
    const url = new URL(
      buildAuthorizeUrl({
        authorizeEndpoint: 'http://127.0.0.1:8000/o/authorize/',
        clientId: 'yunyi-web',
        redirectUri: 'http://127.0.0.1:8000/auth/callback',
        scope: 'openid profile fhirUser offline_access',
        state: 'st',
        codeChallenge: 'ch',
        uiLocales: 'en',
      }),
    )
    expect(url.pathname).toBe('/o/authorize/')
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'yunyi-web',
      redirect_uri: 'http://127.0.0.1:8000/auth/callback',
      scope: 'openid profile fhirUser offline_access',
      state: 'st',
      code_challenge: 'ch',
      code_challenge_method: 'S256',
      ui_locales: 'en',
    })
  })

  it('builds token, refresh and revocation bodies', () => {
    expect(
      Object.fromEntries(authorizationCodeTokenBody({ code: 'c', codeVerifier: 'v', redirectUri: 'r', clientId: 'yunyi-web' })),
    ).toEqual({ grant_type: 'authorization_code', code: 'c', code_verifier: 'v', redirect_uri: 'r', client_id: 'yunyi-web' })
    expect(Object.fromEntries(refreshTokenBody({ refreshToken: 'rt', clientId: 'yunyi-web' }))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'rt',
      client_id: 'yunyi-web',
    })
    expect(Object.fromEntries(revocationBody({ token: 't', tokenTypeHint: 'refresh_token', clientId: 'yunyi-web' }))).toEqual({
      token: 't',
      token_type_hint: 'refresh_token',
      client_id: 'yunyi-web',
    })
  })

  it('builds the RP-initiated logout URL', () => {
    const url = new URL(
      buildLogoutUrl({
        logoutEndpoint: 'http://h/o/logout/',
        idTokenHint: 'idt',
        postLogoutRedirectUri: 'http://h/',
        clientId: 'yunyi-web',
      }),
    )
    expect(Object.fromEntries(url.searchParams)).toEqual({
      id_token_hint: 'idt',
      post_logout_redirect_uri: 'http://h/',
      client_id: 'yunyi-web',
    })
  })
})

describe('refresh scheduling', () => {
  it('refreshes at 80% of the lifetime for long-lived tokens', () => {
    expect(refreshDelayMs(3600)).toBe(2_880_000)
    expect(refreshDelayMs(36_000)).toBe(28_800_000)
  })

  it('refreshes 60 s before expiry when that comes first', () => {
    expect(refreshDelayMs(120)).toBe(60_000)
    expect(refreshDelayMs(100)).toBe(40_000)
    expect(refreshDelayMs(60)).toBe(5_000)
    expect(refreshDelayMs(30)).toBe(5_000)
  })

  it('never schedules sooner than 5 s nor after expiry', () => {
    expect(refreshDelayMs(10)).toBe(5_000)
    expect(refreshDelayMs(3)).toBe(3_000)
    expect(refreshDelayMs(0)).toBe(0)
    expect(refreshDelayMs(-5)).toBe(0)
    expect(refreshDelayMs(Number.NaN)).toBe(0)
  })
})
