/**
 * Pure helpers of the doctors' pages: schedule checks that mirror the server's (so the editor can
 * point at the faulty row before saving), free slots grouped by the doctor's local day, fees in
 * fen shown as yuan, and a generated avatar for doctors without a photo.
 */

export type ProblemKind = 'time' | 'order' | 'slotLength' | 'notDividing' | 'overlap' | 'noModes'

export interface TemplateDraft {
  weekday: number
  start_time: string
  end_time: string
  slot_minutes: number
  modes: string[]
}

export interface Problem {
  index: number
  kind: ProblemKind
}

export const MODES = ['video', 'text', 'in_person', 'home_visit'] as const
export type Mode = (typeof MODES)[number]
export const TITLES = ['chief', 'associate_chief', 'attending', 'resident'] as const
export const LANGUAGES = ['zh', 'yue', 'en', 'ja', 'ko', 'fr', 'de', 'es', 'ru', 'ar', 'bo', 'ug', 'mn', 'za'] as const

/** Minutes since midnight of "HH:MM" or "HH:MM:SS"; NaN when it is not a time. */
export function minutesOf(value: string): number {
  const match = /^(\d{2}):(\d{2})(?::\d{2})?$/.exec(value)
  if (!match) return Number.NaN
  const hours = Number(match[1])
  const minutes = Number(match[2])
  if (hours > 23 || minutes > 59) return Number.NaN
  return hours * 60 + minutes
}

/** "09:00:00" → "09:00" (the API answers with seconds, the editor shows minutes). */
export function shortTime(value: string): string {
  return value.slice(0, 5)
}

/** Problems the server would refuse, by template index (the same rules as `slots.py`). */
export function scheduleProblems(templates: readonly TemplateDraft[]): Problem[] {
  const problems: Problem[] = []
  templates.forEach((t, index) => {
    const start = minutesOf(t.start_time)
    const end = minutesOf(t.end_time)
    if (Number.isNaN(start) || Number.isNaN(end)) problems.push({ index, kind: 'time' })
    else if (!t.modes.length) problems.push({ index, kind: 'noModes' })
    else if (!(end > start)) problems.push({ index, kind: 'order' })
    else if (!(t.slot_minutes >= 5 && t.slot_minutes <= 240)) problems.push({ index, kind: 'slotLength' })
    else if ((end - start) % t.slot_minutes !== 0) problems.push({ index, kind: 'notDividing' })
  })
  const order = templates
    .map((t, index) => ({ t, index, start: minutesOf(t.start_time), end: minutesOf(t.end_time) }))
    .filter((x) => x.end > x.start)
    .sort((a, b) => a.t.weekday - b.t.weekday || a.start - b.start)
  const latestEnd = new Map<number, number>()
  for (const x of order) {
    const latest = latestEnd.get(x.t.weekday)
    if (latest !== undefined && x.start < latest) problems.push({ index: x.index, kind: 'overlap' })
    latestEnd.set(x.t.weekday, Math.max(latest ?? x.end, x.end))
  }
  return problems.sort((a, b) => a.index - b.index)
}

/** Number of slots a template yields per day (0 when it cannot be cut). */
export function slotsPerDay(t: TemplateDraft): number {
  const length = minutesOf(t.end_time) - minutesOf(t.start_time)
  if (!(length > 0) || !(t.slot_minutes > 0) || length % t.slot_minutes !== 0) return 0
  return length / t.slot_minutes
}

export interface SlotLike {
  start: string
  end: string
  modes: string[]
}

export interface SlotDay<S extends SlotLike> {
  /** YYYY-MM-DD in the doctor's time zone. */
  day: string
  slots: { slot: S; time: string }[]
}

const dayFormatters = new Map<string, Intl.DateTimeFormat>()
const timeFormatters = new Map<string, Intl.DateTimeFormat>()

function cached(cache: Map<string, Intl.DateTimeFormat>, timeZone: string, options: Intl.DateTimeFormatOptions, locale: string): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}`
  let formatter = cache.get(key)
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(locale, { timeZone, ...options })
    cache.set(key, formatter)
  }
  return formatter
}

/**
 * A time zone as people call it in the UI's language ("中国标准时间", "China Standard Time"), not
 * its IANA id; the id itself when the browser has no name for it.
 */
export function zoneName(timeZone: string, locale: string, at: Date = new Date()): string {
  try {
    const parts = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'long' }).formatToParts(at)
    return parts.find((part) => part.type === 'timeZoneName')?.value ?? timeZone
  } catch {
    return timeZone
  }
}

/** The local calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function localDay(instant: string | Date, timeZone: string): string {
  return cached(dayFormatters, timeZone, { year: 'numeric', month: '2-digit', day: '2-digit' }, 'en-CA').format(
    new Date(instant),
  )
}

/** The local wall-clock time (HH:MM, 24 h) of an instant in a time zone. */
export function localTime(instant: string | Date, timeZone: string): string {
  return cached(timeFormatters, timeZone, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }, 'en-GB').format(
    new Date(instant),
  )
}

/** Slots grouped by the doctor's local day, days and slots in time order. */
export function slotsByDay<S extends SlotLike>(slots: readonly S[], timeZone: string): SlotDay<S>[] {
  const days = new Map<string, SlotDay<S>>()
  const sorted = [...slots].sort((a, b) => Date.parse(a.start) - Date.parse(b.start))
  for (const slot of sorted) {
    const day = localDay(slot.start, timeZone)
    let group = days.get(day)
    if (!group) {
      group = { day, slots: [] }
      days.set(day, group)
    }
    group.slots.push({ slot, time: localTime(slot.start, timeZone) })
  }
  return [...days.values()]
}

/** A fee in fen as money in yuan ("¥50.00"). */
export function formatFee(fen: number, locale: string): string {
  return new Intl.NumberFormat(locale, { style: 'currency', currency: 'CNY' }).format(fen / 100)
}

/** Yuan typed in a form (e.g. "50.5") → whole fen, or null when it is not a valid amount. */
export function yuanToFen(yuan: string | number): number | null {
  const text = String(yuan).trim()
  if (!/^\d{1,6}(\.\d{1,2})?$/.test(text)) return null
  return Math.round(Number(text) * 100)
}

export interface Avatar {
  initials: string
  /** An HSL colour derived from the name, stable across visits. */
  color: string
}

/** A generated avatar: the surname for Chinese names, initials otherwise. */
export function avatarFor(name: string): Avatar {
  const trimmed = name.trim()
  let hash = 0
  for (const ch of trimmed) hash = (hash * 31 + (ch.codePointAt(0) ?? 0)) >>> 0
  const color = `hsl(${hash % 360}, 55%, 45%)`
  if (!trimmed) return { initials: '?', color }
  if (/^[\u3400-\u9fff]/.test(trimmed)) return { initials: [...trimmed][0] ?? '?', color }
  const words = trimmed.split(/\s+/).filter(Boolean)
  const initials = words.length > 1 ? `${words[0]?.[0] ?? ''}${words[words.length - 1]?.[0] ?? ''}` : trimmed.slice(0, 2)
  return { initials: initials.toUpperCase(), color }
}

export type LicenceStatus = 'pending' | 'verified' | 'rejected' | 'suspended'
export type DecisionKind = 'verify' | 'reject' | 'suspend' | 'reinstate'

/** The decisions an administrator may take on a licence in `status` (the server's rules). */
export function decisionsFor(status: string): DecisionKind[] {
  switch (status) {
    case 'pending':
      return ['verify', 'reject']
    case 'verified':
      return ['suspend']
    case 'suspended':
      return ['reinstate']
    default:
      return []
  }
}

/** Only a plain verification may go without a reason. */
export function reasonRequired(decision: DecisionKind): boolean {
  return decision !== 'verify'
}

/** A doctor may submit a licence when none is open (none yet, or the last was rejected). */
export function canSubmitLicence(status: string | null | undefined): boolean {
  return !status || status === 'rejected'
}
