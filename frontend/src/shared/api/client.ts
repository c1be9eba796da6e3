/**
 * The one way the app calls the JSON API (`/api/v1`): bearer token from the auth provider, the
 * user's language in Accept-Language (the server translates its error messages), errors turned
 * into `ApiError` from the platform's error shape `{"error": {"code", "message", "details"}}`,
 * and on 401 one silent token refresh and one retry.
 */

export const API_PREFIX = '/api/v1'

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly details: unknown

  constructor(status: number, code: string, message: string, details: unknown = undefined) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
  }
}

/** What the API client needs from whoever holds the tokens (the auth store registers itself). */
export interface ApiAuthProvider {
  /** A current access token, refreshed first if it is about to expire; null when signed out. */
  accessToken(): Promise<string | null>
  /** Refresh after a 401; true when a new access token is available. */
  refreshAfterUnauthorized(): Promise<boolean>
}

let authProvider: ApiAuthProvider | null = null

export function setApiAuthProvider(provider: ApiAuthProvider | null): void {
  authProvider = provider
}

export interface ApiRequest {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'
  body?: unknown
  /** Send the bearer token (default); public endpoints such as sign-up pass false. */
  auth?: boolean
}

function requestLanguage(): string {
  return document.documentElement.lang || 'zh-CN'
}

/** Read an error response in the platform's shape; anything else becomes a generic error. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let body: unknown = null
  try {
    body = await response.json()
  } catch {
    body = null
  }
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error
  if (error && typeof error.code === 'string') {
    const message = typeof error.message === 'string' ? error.message : error.code
    return new ApiError(response.status, error.code, message, error.details)
  }
  return new ApiError(response.status, `http_${response.status}`, response.statusText || `HTTP ${response.status}`)
}

async function send(path: string, request: ApiRequest, token: string | null): Promise<Response> {
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'Accept-Language': requestLanguage(),
  }
  if (request.body !== undefined) headers['Content-Type'] = 'application/json'
  if (token) headers.Authorization = `Bearer ${token}`
  try {
    return await fetch(`${API_PREFIX}${path}`, {
      method: request.method ?? 'GET',
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      credentials: 'same-origin',
    })
  } catch {
    throw new ApiError(0, 'network_error', 'network_error')
  }
}

/**
 * Send a request with the bearer token, and on 401 refresh once and retry: for other same-origin
 * APIs (the FHIR API) that share the tokens but not the `/api/v1` error shape.
 */
export async function authorizedFetch(
  send: (token: string | null) => Promise<Response>,
  useAuth = true,
): Promise<Response> {
  const token = useAuth && authProvider ? await authProvider.accessToken() : null
  let response = await send(token)
  if (response.status === 401 && useAuth && authProvider && (await authProvider.refreshAfterUnauthorized())) {
    response = await send(await authProvider.accessToken())
  }
  return response
}

export async function apiFetch<T>(path: string, request: ApiRequest = {}): Promise<T> {
  const response = await authorizedFetch((token) => send(path, request, token), request.auth ?? true)
  if (!response.ok) throw await errorFromResponse(response)
  if (response.status === 204) return undefined as T
  return (await response.json()) as T
}
