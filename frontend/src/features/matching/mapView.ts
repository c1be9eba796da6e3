/**
 * Map data for the matching pages, drawn by ECharts on a longitude/latitude cartesian grid, so a
 * map needs no tiles (the server may be offline). Longitude is stretched by 1/cos(latitude) in
 * the aspect so shapes keep their proportions near the view's centre.
 */

export interface LonLat {
  lon: number
  lat: number
}

export interface View {
  minLon: number
  maxLon: number
  minLat: number
  maxLat: number
}

/** The box around `points` with `padding` (a share of its size, at least `minSpanDeg` wide). */
export function viewAround(points: readonly LonLat[], padding = 0.08, minSpanDeg = 0.05): View | null {
  if (!points.length) return null
  let minLon = Infinity
  let maxLon = -Infinity
  let minLat = Infinity
  let maxLat = -Infinity
  for (const { lon, lat } of points) {
    minLon = Math.min(minLon, lon)
    maxLon = Math.max(maxLon, lon)
    minLat = Math.min(minLat, lat)
    maxLat = Math.max(maxLat, lat)
  }
  const padLon = Math.max((maxLon - minLon) * padding, minSpanDeg / 2)
  const padLat = Math.max((maxLat - minLat) * padding, minSpanDeg / 2)
  return {
    minLon: round(minLon - padLon),
    maxLon: round(maxLon + padLon),
    minLat: round(Math.max(-90, minLat - padLat)),
    maxLat: round(Math.min(90, maxLat + padLat)),
  }
}

/** Height over width of the view on the ground (1 degree of longitude is cos(lat) of one of latitude). */
export function aspectRatio(view: View): number {
  const midLat = ((view.minLat + view.maxLat) / 2) * (Math.PI / 180)
  const width = (view.maxLon - view.minLon) * Math.cos(midLat)
  const height = view.maxLat - view.minLat
  return width > 0 ? height / width : 1
}

/** ECharts `lines` data on the cartesian grid: one segment from each point to its target. */
export function segments<T>(
  rows: readonly T[],
  from: (row: T) => LonLat | null,
  to: (row: T) => LonLat | null,
): { coords: [number, number][] }[] {
  const out: { coords: [number, number][] }[] = []
  for (const row of rows) {
    const a = from(row)
    const b = to(row)
    if (a && b) out.push({ coords: [[a.lon, a.lat], [b.lon, b.lat]] })
  }
  return out
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000
}
