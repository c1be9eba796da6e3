import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import MatchMap from '@/features/matching/components/MatchMap.vue'
import { mapConfigForget } from '@/features/matching/mapConfig'
import { mapKindOf, tileShapes, tileUrlOf, type LineLayer, type PointLayer } from '@/features/matching/mapLayers'
import { fakeNetwork, type FakeNetwork } from '@/test/fetchMock'

const TILES = 'https://tiles.example.cn/{z}/{x}/{y}.png'

describe('the tile source decides the map', () => {
  it('draws over tiles only with an https or same-origin {z}/{x}/{y} template', () => {
    expect(mapKindOf({ tile_url: TILES, attribution: '' })).toBe('tiles')
    expect(tileUrlOf({ tile_url: `  ${TILES} `, attribution: '' })).toBe(TILES)
    expect(tileUrlOf({ tile_url: '/tiles/{z}/{x}/{y}.png', attribution: '' })).toBe('/tiles/{z}/{x}/{y}.png')
  })

  it('falls back to the grid when there is no usable template', () => {
    for (const tile_url of [null, '', '   ', 'https://tiles.example.cn/map.png', 'https://t.example.cn/{z}/{x}.png']) {
      expect(mapKindOf({ tile_url, attribution: '' }), String(tile_url)).toBe('grid')
    }
    // http images and protocol-relative hosts are blocked by the CSP or ambiguous: grid, not a blank map.
    expect(mapKindOf({ tile_url: 'http://tiles.example.cn/{z}/{x}/{y}.png', attribution: '' })).toBe('grid')
    expect(mapKindOf({ tile_url: '//tiles.example.cn/{z}/{x}/{y}.png', attribution: '' })).toBe('grid')
    expect(mapKindOf(null)).toBe('grid')
    expect(mapKindOf(undefined)).toBe('grid')
  })
})

const DOCTORS: PointLayer = {
  name: 'Doctors',
  color: '#1f6feb',
  size: 12,
  symbol: 'diamond',
  points: [
    [121.47, 31.23, '王医生'],
    [121.5, 31.3, '<b>李医生</b>'],
  ],
}
const REQUESTS: PointLayer = { name: 'Requests', color: '#d93025', size: 3, points: [[121.44, 31.2, 'r1']] }
const PLAN: LineLayer = {
  name: 'Assigned',
  color: '#999',
  lines: [
    {
      coords: [
        [121.44, 31.2],
        [121.47, 31.23],
      ],
    },
  ],
}

describe('layers as Leaflet shapes', () => {
  it('turns [lon, lat, label] into circle markers at [lat, lon] with the label as tooltip', () => {
    const shapes = tileShapes([DOCTORS, REQUESTS])

    expect(shapes.circles).toEqual([
      { layer: 'Doctors', at: [31.23, 121.47], radius: 6, color: '#1f6feb', tooltip: '王医生' },
      { layer: 'Doctors', at: [31.3, 121.5], radius: 6, color: '#1f6feb', tooltip: '<b>李医生</b>' },
      // Half the ECharts symbol size, never smaller than 2 px.
      { layer: 'Requests', at: [31.2, 121.44], radius: 2, color: '#d93025', tooltip: 'r1' },
    ])
  })

  it('turns lines into polylines and lists every layer in the legend, points first', () => {
    const shapes = tileShapes([DOCTORS, REQUESTS], [PLAN])

    expect(shapes.lines).toEqual([
      {
        layer: 'Assigned',
        color: '#999',
        path: [
          [31.2, 121.44],
          [31.23, 121.47],
        ],
      },
    ])
    expect(shapes.legend).toEqual([
      { name: 'Doctors', color: '#1f6feb', kind: 'point' },
      { name: 'Requests', color: '#d93025', kind: 'point' },
      { name: 'Assigned', color: '#999', kind: 'line' },
    ])
  })

  it('frames every point with padding, as the grid map does', () => {
    const [[south, west], [north, east]] = tileShapes([DOCTORS, REQUESTS]).bounds!

    expect(south).toBeLessThan(31.2)
    expect(west).toBeLessThan(121.44)
    expect(north).toBeGreaterThan(31.3)
    expect(east).toBeGreaterThan(121.5)
    expect(north - south).toBeLessThan(0.2)
  })

  it('drops coordinates that are not on Earth and lines left with fewer than two points', () => {
    const broken: PointLayer = {
      name: 'Broken',
      color: '#000',
      size: 8,
      points: [
        [Number.NaN, 31, 'nan'],
        [200, 31, 'east of everything'],
        [121, 95, 'north of the pole'],
        [121, 31, 'fine'],
      ],
    }
    const line: LineLayer = {
      name: 'L',
      color: '#000',
      lines: [
        {
          coords: [
            [121, 31],
            [Number.POSITIVE_INFINITY, 31],
          ],
        },
      ],
    }

    const shapes = tileShapes([broken], [line])

    expect(shapes.circles.map((c) => c.tooltip)).toEqual(['fine'])
    expect(shapes.lines).toEqual([])
  })

  it('has nothing to frame without points', () => {
    const shapes = tileShapes([{ ...DOCTORS, points: [] }])

    expect(shapes.bounds).toBeNull()
    expect(shapes.circles).toEqual([])
    expect(shapes.legend).toHaveLength(1)
  })
})

describe('MatchMap chooses tiles or the grid from the server setting', () => {
  let network: FakeNetwork

  beforeEach(() => {
    mapConfigForget()
    network = fakeNetwork()
  })

  afterEach(() => {
    document.body.innerHTML = ''
  })

  async function mounted() {
    const wrapper = mount(MatchMap, {
      attachTo: document.body,
      // ECharts needs a real canvas, which jsdom lacks (the page specs stub it the same way).
      global: { stubs: { Echarts: true } },
      props: { points: [DOCTORS, REQUESTS], lines: [PLAN], testId: 'the-map' },
    })
    await flushPromises()
    return wrapper
  }

  it('draws on the grid when no tile source is set, asking the public endpoint without a token', async () => {
    network.on('GET /api/v1/matching/map-config', { status: 200, body: { tile_url: null, attribution: '' } })

    const wrapper = await mounted()

    expect(wrapper.get('[data-testid="the-map"]').attributes('data-map-kind')).toBe('grid')
    expect(wrapper.find('.leaflet-container').exists()).toBe(false)
    const [call] = network.to('GET /api/v1/matching/map-config')
    expect(call).toBeDefined()
    expect(call!.headers.authorization).toBeUndefined()
  })

  it('still draws on the grid when the setting cannot be read', async () => {
    network.on('GET /api/v1/matching/map-config', { status: 500, body: { error: { code: 'x', message: 'down' } } })

    const wrapper = await mounted()

    expect(wrapper.get('[data-testid="the-map"]').attributes('data-map-kind')).toBe('grid')
  })

  it('draws with Leaflet over the configured tiles, and keeps points and lines when a tile fails', async () => {
    network.on('GET /api/v1/matching/map-config', { status: 200, body: { tile_url: TILES, attribution: '© 示例地图' } })

    const wrapper = await mounted()

    expect(wrapper.get('[data-testid="the-map"]').attributes('data-map-kind')).toBe('tiles')
    // Leaflet arrives as its own chunk, after the setting.
    await vi.waitFor(() => expect(wrapper.find('.leaflet-container').exists()).toBe(true), { timeout: 5000 })
    expect(wrapper.get('[data-testid="tile-map-legend"]').text().replace(/\s+/g, ' ')).toBe('Doctors Requests Assigned')
    expect(wrapper.get('.leaflet-control-attribution').text()).toContain('© 示例地图')
    const shapes = () => wrapper.findAll('.leaflet-overlay-pane path')
    expect(shapes()).toHaveLength(4) // three circle markers and one polyline
    // Tooltips show labels as text: a name is never markup.
    shapes()[2]!.element.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }))
    await flushPromises()
    const tooltip = document.querySelector('.leaflet-tooltip')
    expect(tooltip?.textContent).toBe('<b>李医生</b>')
    expect(tooltip?.querySelector('b')).toBeNull()

    const tile = wrapper.get<HTMLImageElement>('img.leaflet-tile')
    expect(tile.element.src).toBe('https://tiles.example.cn/0/0/0.png')

    // Offline: the tile does not load. The background has a gap; the data does not.
    tile.element.dispatchEvent(new Event('error'))
    await flushPromises()

    expect(wrapper.get('.tile-map').attributes('data-tile-errors')).toBe('1')
    expect(shapes()).toHaveLength(4)
    expect(wrapper.get('[data-testid="the-map"]').attributes('data-map-kind')).toBe('tiles')
  })
})
