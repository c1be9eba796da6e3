/**
 * What must survive the redirect to the authorization server and back: the PKCE verifier, the
 * state and where to return. Kept in sessionStorage (this tab only) and removed when read, so a
 * callback can be completed once. Tokens are never stored here.
 */

const PENDING_KEY = 'yunyi.oauth.pending'
/** A non-secret marker that this tab was signed in, so a reload signs in again silently. */
const SIGNED_IN_KEY = 'yunyi.oauth.signedIn'

export interface PendingSignIn {
  state: string
  codeVerifier: string
  returnTo: string
}

export function savePendingSignIn(pending: PendingSignIn): void {
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending))
}

export function takePendingSignIn(): PendingSignIn | null {
  const raw = sessionStorage.getItem(PENDING_KEY)
  sessionStorage.removeItem(PENDING_KEY)
  if (!raw) return null
  try {
    const value = JSON.parse(raw) as Partial<PendingSignIn>
    if (typeof value.state === 'string' && typeof value.codeVerifier === 'string') {
      return { state: value.state, codeVerifier: value.codeVerifier, returnTo: safeReturnPath(value.returnTo) }
    }
  } catch {
    // A corrupt entry is treated as no pending sign-in.
  }
  return null
}

export function markSignedIn(signedIn: boolean): void {
  if (signedIn) sessionStorage.setItem(SIGNED_IN_KEY, '1')
  else sessionStorage.removeItem(SIGNED_IN_KEY)
}

export function wasSignedIn(): boolean {
  return sessionStorage.getItem(SIGNED_IN_KEY) === '1'
}

/** Only same-app paths are accepted as a place to return to (no open redirect via `//host`). */
export function safeReturnPath(path: unknown): string {
  if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//') || path.includes('\\')) return '/'
  return path
}
