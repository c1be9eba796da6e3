/**
 * A fake network for tests: `fetch` answers from a table of routes and records every request.
 * Only the network boundary is replaced; the app's own modules run for real.
 */
import { vi } from 'vitest'

export interface RecordedRequest {
  method: string
  url: string
  path: string
  headers: Record<string, string>
  body: string | null
}

type Reply = { status: number; body?: unknown } | (() => { status: number; body?: unknown })

export interface FakeNetwork {
  requests: RecordedRequest[]
  /** Queue a reply for `METHOD /path`; replies are used in order, and the last one used repeats. */
  on(route: string, reply: Reply): FakeNetwork
  json(request: RecordedRequest): unknown
  form(request: RecordedRequest): Record<string, string>
  to(route: string): RecordedRequest[]
}

export function fakeNetwork(): FakeNetwork {
  const routes = new Map<string, Reply[]>()
  const lastReplies = new Map<string, Reply>()
  const requests: RecordedRequest[] = []

  const fetchMock = vi.fn((input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    const path = new URL(url, 'http://localhost').pathname
    const method = (init.method ?? 'GET').toUpperCase()
    const headers = Object.fromEntries(new Headers(init.headers).entries())
    const body = typeof init.body === 'string' ? init.body : null
    requests.push({ method, url, path, headers, body })
    const route = `${method} ${path}`
    const next = routes.get(route)?.shift() ?? lastReplies.get(route)
    if (!next) {
      return Promise.resolve(new Response(JSON.stringify({ error: { code: 'not_found', message: 'Not found.' } }), {
        status: 404,
        headers: { 'Content-Type': 'application/json' },
      }))
    }
    lastReplies.set(route, next)
    const { status, body: replyBody } = typeof next === 'function' ? next() : next
    const payload = replyBody === undefined || status === 204 ? null : JSON.stringify(replyBody)
    return Promise.resolve(new Response(payload, { status, headers: { 'Content-Type': 'application/json' } }))
  })
  vi.stubGlobal('fetch', fetchMock)

  const network: FakeNetwork = {
    requests,
    on(route, reply) {
      const queue = routes.get(route) ?? []
      queue.push(reply)
      routes.set(route, queue)
      return network
    },
    json(request) {
      return request.body === null ? null : JSON.parse(request.body)
    },
    form(request) {
      return Object.fromEntries(new URLSearchParams(request.body ?? '').entries())
    },
    to(route) {
      const [method, path] = route.split(' ')
      return requests.filter((r) => r.method === method && r.path === path)
    },
  }
  return network
}
