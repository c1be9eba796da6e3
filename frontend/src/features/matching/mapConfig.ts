/**
 * The server's map tile source, asked once per page load and shared by every map. A failed call
 * is not remembered (the next map asks again) and means "no tiles": the maps still draw.
 */
import { mapConfigFetch, type MapConfig } from '@/features/matching/api'

let pending: Promise<MapConfig | null> | null = null

export function mapConfigOnce(): Promise<MapConfig | null> {
  pending ??= mapConfigFetch().catch(() => {
    pending = null
    return null
  })
  return pending
}

/** Forget the answer (tests; a settings change needs a page reload otherwise). */
export function mapConfigForget(): void {
  pending = null
}
