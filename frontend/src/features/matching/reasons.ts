/**
 * A recommendation's reasons as short phrases in the UI language, e.g.
 * "3.2 km · next slot 14:30 · saw you before" / "3.2 公里 · 最早 14:30 可约 · 您看过的医生".
 * The server sends structured reasons (kind, value); the words are the app's.
 */
import type { Reason } from '@/features/matching/api'

export type Translate = (key: string, named?: Record<string, unknown>) => string

const KNOWN_LANGUAGES = new Set(['zh', 'en', 'yue', 'ja', 'ko', 'fr', 'de', 'es', 'ru'])

/** "14:30" for a slot today, else "11-28 14:30" (in `timeZone`, the browser's by default). */
export function formatSlot(iso: string, now: Date, locale: string, timeZone?: string): string {
  const at = new Date(iso)
  const day = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
  const time = new Intl.DateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at)
  if (day.format(at) === day.format(now)) return time
  const date = new Intl.DateTimeFormat(locale, { timeZone, month: '2-digit', day: '2-digit' }).format(at)
  return `${date} ${time}`
}

export function reasonPhrase(reason: Reason, t: Translate, now: Date, locale: string, timeZone?: string): string | null {
  switch (reason.kind) {
    case 'distance_km':
      return t('matching.reason.distance', { km: Number(reason.value).toFixed(1) })
    case 'next_slot':
      return t('matching.reason.nextSlot', { time: formatSlot(String(reason.value), now, locale, timeZone) })
    case 'online_now':
      return Number(reason.value) > 0
        ? t('matching.reason.onlineNow', { minutes: Number(reason.value) })
        : t('matching.reason.onlineNoWait')
    case 'saw_you_before':
      return t('matching.reason.sawYouBefore')
    case 'rating':
      return t('matching.reason.rating', { stars: Number(reason.value).toFixed(1), count: reason.count ?? 0 })
    case 'speaks_language': {
      const code = String(reason.value)
      const name = KNOWN_LANGUAGES.has(code) ? t(`matching.language.${code}`) : code
      return t('matching.reason.speaks', { language: name })
    }
    case 'gender_match':
      return reason.value === 'female' || reason.value === 'male' ? t(`matching.reason.gender.${reason.value}`) : null
    default:
      return null
  }
}

/** The phrases of all reasons the app knows, in the server's order, joined by " · ". */
export function reasonLine(reasons: readonly Reason[], t: Translate, now: Date, locale: string, timeZone?: string): string {
  return reasons
    .map((reason) => reasonPhrase(reason, t, now, locale, timeZone))
    .filter((phrase): phrase is string => phrase !== null)
    .join(' · ')
}
