/**
 * OAuth 2.0 authorization code + PKCE client primitives for the public client `yunyi-web`.
 *
 * Pure functions (Web Crypto for randomness and hashing, no storage, no network) so they can be
 * tested against the specifications: RFC 6749 (authorization code grant), RFC 7636 (PKCE),
 * RFC 7009 (revocation), OpenID Connect RP-Initiated Logout 1.0.
 */

/** RFC 7636 §4.1: the verifier uses the unreserved characters [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~". */
export const VERIFIER_CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~'
export const VERIFIER_MIN_LENGTH = 43
export const VERIFIER_MAX_LENGTH = 128

export type OAuthErrorCode = 'state_mismatch' | 'missing_code' | 'authorization_denied' | 'no_pending_sign_in'

export class OAuthError extends Error {
  readonly code: OAuthErrorCode
  /** The `error` parameter the authorization server sent, when it sent one (RFC 6749 §4.1.2.1). */
  readonly serverError: string | null

  constructor(code: OAuthErrorCode, message: string, serverError: string | null = null) {
    super(message)
    this.name = 'OAuthError'
    this.code = code
    this.serverError = serverError
  }
}

/** Random string over `charset` without modulo bias (rejection sampling of random bytes). */
function randomString(length: number, charset: string): string {
  const limit = 256 - (256 % charset.length)
  let out = ''
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2))
    for (const byte of bytes) {
      if (byte < limit && out.length < length) out += charset[byte % charset.length]
    }
  }
  return out
}

/** RFC 7636 §4.1: a high-entropy code verifier of 43 to 128 unreserved characters. */
export function generateCodeVerifier(length = 64): string {
  if (!Number.isInteger(length) || length < VERIFIER_MIN_LENGTH || length > VERIFIER_MAX_LENGTH) {
    throw new RangeError(`code verifier length must be ${VERIFIER_MIN_LENGTH}..${VERIFIER_MAX_LENGTH}`)
  }
  return randomString(length, VERIFIER_CHARSET)
}

/** RFC 4648 §5 base64url without padding (RFC 7636 Appendix A). */
export function base64UrlEncode(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** RFC 7636 §4.2: code_challenge = BASE64URL(SHA256(ASCII(code_verifier))) for method S256. */
export async function codeChallengeS256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))
  return base64UrlEncode(new Uint8Array(digest))
}

/** An unguessable `state` value binding the callback to this browser (RFC 6749 §10.12). */
export function generateState(): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(32)))
}

export interface AuthorizeRequest {
  authorizeEndpoint: string
  clientId: string
  redirectUri: string
  scope: string
  state: string
  codeChallenge: string
  uiLocales?: string
}

/** RFC 6749 §4.1.1 + RFC 7636 §4.3 (+ OIDC Core §3.1.2.1 `ui_locales`). */
export function buildAuthorizeUrl(request: AuthorizeRequest): string {
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    scope: request.scope,
    state: request.state,
    code_challenge: request.codeChallenge,
    code_challenge_method: 'S256',
  })
  if (request.uiLocales) params.set('ui_locales', request.uiLocales)
  return `${request.authorizeEndpoint}?${params.toString()}`
}

/**
 * RFC 6749 §4.1.2: read the authorization response on the redirect URI. The state must equal the
 * one this browser sent (compared before anything else, so a forged callback's error is not shown
 * as ours); an `error` parameter becomes an OAuthError carrying the server's code.
 */
export function parseAuthorizationResponse(query: string | URLSearchParams, expectedState: string): { code: string } {
  const params = typeof query === 'string' ? new URLSearchParams(query) : query
  const state = params.get('state')
  if (!expectedState || state !== expectedState) {
    throw new OAuthError('state_mismatch', 'The sign-in response does not belong to this browser session.')
  }
  const error = params.get('error')
  if (error) {
    throw new OAuthError('authorization_denied', params.get('error_description') ?? error, error)
  }
  const code = params.get('code')
  if (!code) throw new OAuthError('missing_code', 'The sign-in response carries no authorization code.')
  return { code }
}

/** RFC 6749 §4.1.3 + RFC 7636 §4.5: body of the code-for-token request. */
export function authorizationCodeTokenBody(args: {
  code: string
  codeVerifier: string
  redirectUri: string
  clientId: string
}): URLSearchParams {
  return new URLSearchParams({
    grant_type: 'authorization_code',
    code: args.code,
    code_verifier: args.codeVerifier,
    redirect_uri: args.redirectUri,
    client_id: args.clientId,
  })
}

/** RFC 6749 §6: body of the refresh request. */
export function refreshTokenBody(args: { refreshToken: string; clientId: string }): URLSearchParams {
  return new URLSearchParams({ grant_type: 'refresh_token', refresh_token: args.refreshToken, client_id: args.clientId })
}

/** RFC 7009 §2.1: body of a revocation request. */
export function revocationBody(args: {
  token: string
  tokenTypeHint: 'access_token' | 'refresh_token'
  clientId: string
}): URLSearchParams {
  return new URLSearchParams({ token: args.token, token_type_hint: args.tokenTypeHint, client_id: args.clientId })
}

/** OIDC RP-Initiated Logout 1.0 §2. */
export function buildLogoutUrl(args: {
  logoutEndpoint: string
  idTokenHint: string | null
  postLogoutRedirectUri: string
  clientId: string
}): string {
  const params = new URLSearchParams()
  if (args.idTokenHint) params.set('id_token_hint', args.idTokenHint)
  params.set('post_logout_redirect_uri', args.postLogoutRedirectUri)
  params.set('client_id', args.clientId)
  return `${args.logoutEndpoint}?${params.toString()}`
}

/** Refresh this many seconds before the access token expires (clock skew + request time). */
export const REFRESH_MARGIN_SECONDS = 60
/** Never schedule a refresh sooner than this, so a tiny `expires_in` cannot cause a refresh storm. */
export const MIN_REFRESH_DELAY_SECONDS = 5

/**
 * Milliseconds to wait before refreshing a token that lives `expiresIn` seconds: the earlier of
 * `REFRESH_MARGIN_SECONDS` before expiry and 80% of its lifetime, but at least
 * `MIN_REFRESH_DELAY_SECONDS` (or the lifetime itself, if shorter).
 */
export function refreshDelayMs(expiresIn: number): number {
  if (!Number.isFinite(expiresIn) || expiresIn <= 0) return 0
  const seconds = Math.min(expiresIn - REFRESH_MARGIN_SECONDS, expiresIn * 0.8)
  return Math.round(Math.max(seconds, Math.min(MIN_REFRESH_DELAY_SECONDS, expiresIn)) * 1000)
}
