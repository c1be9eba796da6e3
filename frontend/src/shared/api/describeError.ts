/**
 * Turn any failure into something to show: the server's (already translated) message plus the
 * details it carries (password validator messages, field errors, retry delay).
 */
import { ApiError } from '@/shared/api/client'

type Translate = (key: string, named?: Record<string, unknown>) => string

export interface DescribedError {
  code: string
  message: string
  items: string[]
}

const FIELD_KEYS: Record<string, string> = {
  address: 'fields.address',
  code: 'fields.code',
  password: 'fields.password',
  display_name: 'fields.displayName',
  legal_name: 'fields.legalName',
  resident_id: 'fields.residentId',
  relationship: 'fields.relationship',
  channel: 'fields.channel',
}

function detailItems(details: unknown, t: Translate): string[] {
  if (Array.isArray(details)) {
    // The core handler's field errors: [{loc: [...], msg, type}].
    return details.flatMap((entry: unknown) => {
      if (typeof entry === 'string') return [entry]
      const item = entry as { loc?: unknown; msg?: unknown }
      if (typeof item?.msg !== 'string') return []
      const loc = Array.isArray(item.loc) ? item.loc : []
      const field = String(loc[loc.length - 1] ?? '')
      const label = FIELD_KEYS[field] ? t(FIELD_KEYS[field]) : field
      return [label ? `${label}: ${item.msg}` : item.msg]
    })
  }
  if (details && typeof details === 'object') {
    const record = details as { messages?: unknown; retry_after?: unknown }
    const items: string[] = []
    if (Array.isArray(record.messages)) items.push(...record.messages.filter((m): m is string => typeof m === 'string'))
    if (typeof record.retry_after === 'number') items.push(t('errors.retryAfter', { seconds: Math.ceil(record.retry_after) }))
    return items
  }
  return []
}

export function describeError(error: unknown, t: Translate): DescribedError {
  if (error instanceof ApiError) {
    if (error.code === 'network_error') return { code: error.code, message: t('errors.network'), items: [] }
    if (error.status === 401) return { code: error.code, message: t('errors.sessionExpired'), items: [] }
    return { code: error.code, message: error.message || t('errors.unknown'), items: detailItems(error.details, t) }
  }
  return { code: 'unknown', message: t('errors.unknown'), items: [] }
}
