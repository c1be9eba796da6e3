/**
 * The layers a matching map draws, and how they become Leaflet shapes when the server has a tile
 * source (`GET /matching/map-config`, setting YUNYI_MAP_TILE_URL). Without one — the default, and
 * offline — the maps draw the same layers with ECharts on a longitude/latitude grid. Pure: no
 * Leaflet import here, so the pages that never show tiles never load it.
 */
import type { MapConfig } from '@/features/matching/api'
import { viewAround, type LonLat } from '@/features/matching/mapView'

export interface PointLayer {
  name: string
  color: string
  size: number
  symbol?: string
  /** [lon, lat, label] */
  points: [number, number, string][]
}

export interface LineLayer {
  name: string
  color: string
  lines: { coords: [number, number][] }[]
}

/** The placeholders a slippy-map URL template needs; without them every tile would be one image. */
const TILE_PLACEHOLDERS = ['{z}', '{x}', '{y}']

/** Draw over tiles only with a usable template (https, or same-origin path: the CSP allows no http images). */
export function tileUrlOf(config: MapConfig | null | undefined): string | null {
  const url = config?.tile_url?.trim()
  if (!url) return null
  if (!TILE_PLACEHOLDERS.every((p) => url.includes(p))) return null
  if (!url.startsWith('https://') && !(url.startsWith('/') && !url.startsWith('//'))) return null
  return url
}

export type MapKind = 'tiles' | 'grid'

export function mapKindOf(config: MapConfig | null | undefined): MapKind {
  return tileUrlOf(config) ? 'tiles' : 'grid'
}

/** Leaflet takes [lat, lng]; our layers carry [lon, lat] like ECharts' x/y. */
export type LatLng = [number, number]

export interface CircleShape {
  layer: string
  at: LatLng
  /** pixels: half the ECharts symbol size, so both maps show points alike */
  radius: number
  color: string
  tooltip: string
}

export interface LineShape {
  layer: string
  path: LatLng[]
  color: string
}

export interface LegendEntry {
  name: string
  color: string
  kind: 'point' | 'line'
}

export interface TileShapes {
  circles: CircleShape[]
  lines: LineShape[]
  legend: LegendEntry[]
  /** [[south, west], [north, east]] framing every point (padded like the grid map); null: nothing to frame */
  bounds: [LatLng, LatLng] | null
}

function finite(lon: number, lat: number): boolean {
  return Number.isFinite(lon) && Number.isFinite(lat) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180
}

/** The Leaflet shapes of the page's layers: lines under points, in the page's layer order. */
export function tileShapes(points: readonly PointLayer[], lines: readonly LineLayer[] = []): TileShapes {
  const circles: CircleShape[] = []
  const all: LonLat[] = []
  for (const layer of points) {
    for (const [lon, lat, label] of layer.points) {
      if (!finite(lon, lat)) continue
      all.push({ lon, lat })
      circles.push({
        layer: layer.name,
        at: [lat, lon],
        radius: Math.max(2, layer.size / 2),
        color: layer.color,
        tooltip: label,
      })
    }
  }
  const paths: LineShape[] = []
  for (const layer of lines) {
    for (const line of layer.lines) {
      const path = line.coords.filter(([lon, lat]) => finite(lon, lat)).map(([lon, lat]): LatLng => [lat, lon])
      if (path.length >= 2) paths.push({ layer: layer.name, path, color: layer.color })
    }
  }
  const view = viewAround(all)
  return {
    circles,
    lines: paths,
    legend: [
      ...points.map((l): LegendEntry => ({ name: l.name, color: l.color, kind: 'point' })),
      ...lines.map((l): LegendEntry => ({ name: l.name, color: l.color, kind: 'line' })),
    ],
    bounds: view
      ? [
          [view.minLat, view.minLon],
          [view.maxLat, view.maxLon],
        ]
      : null,
  }
}
