/**
 * Leaflet drawing for TileMap, in its own module so that Leaflet (and its CSS) is a chunk of its
 * own, downloaded only when the server names a tile source. Plain TypeScript, no Vue: the chunk
 * holds Leaflet and this file, and the app's shared chunks stay as they were.
 *
 * Points and lines are vector layers, independent of the tiles: a tile that fails to load leaves
 * a gap in the background, never in the data.
 */
import 'leaflet/dist/leaflet.css'
import L from 'leaflet'

import type { TileShapes } from '@/features/matching/mapLayers'

/** Where the map opens with nothing to frame: mainland China. */
const CHINA_CENTRE: L.LatLngTuple = [35, 105]

export interface TileMapHandle {
  draw(shapes: TileShapes): void
  resize(): void
  remove(): void
}

/** Canvas draws thousands of points fast; SVG where the browser has no 2-D canvas. */
function renderer(): L.Renderer {
  let canvas = false
  try {
    canvas = document.createElement('canvas').getContext('2d') !== null
  } catch {
    canvas = false
  }
  return canvas ? L.canvas() : L.svg()
}

/** Tooltip content as a text node: labels carry names from the server, never markup. */
function textOf(label: string): HTMLElement {
  const span = document.createElement('span')
  span.textContent = label
  return span
}

export function createTileMap(
  container: HTMLElement,
  options: { tileUrl: string; attribution: string; onTileError: () => void },
): TileMapHandle {
  const map = L.map(container, { renderer: renderer(), zoomSnap: 0.25 })
  // The plain project link (Leaflet's default prefix adds a flag icon).
  map.attributionControl.setPrefix('<a href="https://leafletjs.com" target="_blank" rel="noopener">Leaflet</a>')
  L.tileLayer(options.tileUrl, { attribution: options.attribution, maxZoom: 19 })
    .on('tileerror', options.onTileError)
    .addTo(map)
  const drawn = L.layerGroup().addTo(map)
  return {
    draw({ circles, lines, bounds }) {
      drawn.clearLayers()
      for (const line of lines) {
        L.polyline(line.path, { color: line.color, weight: 1.2, opacity: 0.7, interactive: false }).addTo(drawn)
      }
      for (const circle of circles) {
        L.circleMarker(circle.at, {
          radius: circle.radius,
          color: circle.color,
          weight: 1,
          fillColor: circle.color,
          fillOpacity: 0.85,
        })
          .bindTooltip(textOf(circle.tooltip))
          .addTo(drawn)
      }
      if (bounds) map.fitBounds(bounds)
      else map.setView(CHINA_CENTRE, 4)
    },
    resize() {
      map.invalidateSize()
    },
    remove() {
      map.remove()
    },
  }
}
