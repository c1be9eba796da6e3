import { describe, expect, it } from 'vitest'

import { recommendationSearch, type Reason } from '@/features/matching/api'
import messages from '@/features/matching/messages'
import { aspectRatio, segments, viewAround } from '@/features/matching/mapView'
import { formatSlot, reasonLine, type Translate } from '@/features/matching/reasons'

function leafKeys(tree: object, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === 'object' ? leafKeys(value as object, `${prefix}${key}.`) : [`${prefix}${key}`],
  )
}

/** A tiny translator over the feature's own messages, enough to check the rendered phrases. */
function translator(locale: 'zh-CN' | 'en'): Translate {
  return (key, named = {}) => {
    let node: unknown = messages[locale]
    for (const part of key.split('.')) node = (node as Record<string, unknown>)[part]
    if (typeof node !== 'string') throw new Error(`missing ${key}`)
    return node.replace(/\{(\w+)\}/g, (_m, name: string) => String(named[name]))
  }
}

const NOW = new Date('2026-11-27T02:00:00Z') // 10:00 in Shanghai
const REASONS: Reason[] = [
  { kind: 'distance_km', value: 3.2, contribution: 0.16 },
  { kind: 'next_slot', value: '2026-11-27T06:30:00+00:00', contribution: 0.2 },
  { kind: 'saw_you_before', value: true, contribution: 0.15 },
  { kind: 'rating', value: 4.8, contribution: 0.13, count: 120 },
  { kind: 'speaks_language', value: 'en', contribution: 0.05 },
  { kind: 'gender_match', value: 'female', contribution: 0.05 },
  { kind: 'something_new', value: 1, contribution: 0 },
]

describe('matching messages', () => {
  it('zh-CN and en have the same keys under the matching namespace', () => {
    expect(Object.keys(messages['zh-CN'])).toEqual(['matching'])
    expect(leafKeys(messages.en).sort()).toEqual(leafKeys(messages['zh-CN']).sort())
  })
})

describe('reasons', () => {
  it('renders the reason line in English and Chinese, skipping unknown kinds', () => {
    expect(reasonLine(REASONS, translator('en'), NOW, 'en', 'Asia/Shanghai')).toBe(
      '3.2 km · next slot 14:30 · saw you before · ★ 4.8 (120 ratings) · speaks English · female doctor',
    )
    expect(reasonLine(REASONS, translator('zh-CN'), NOW, 'zh-CN', 'Asia/Shanghai')).toBe(
      '3.2 公里 · 最早 14:30 可约 · 您看过的医生 · ★ 4.8（120 条评价） · 会说英语 · 女医生',
    )
  })

  it('says when a slot is on another day, and the queue wait when online', () => {
    expect(formatSlot('2026-11-28T01:00:00Z', NOW, 'en', 'Asia/Shanghai')).toBe('11/28 09:00')
    const online: Reason[] = [{ kind: 'online_now', value: 12, contribution: 0.2 }]
    expect(reasonLine(online, translator('en'), NOW, 'en')).toBe('online now · ~12 min wait')
    const now: Reason[] = [{ kind: 'online_now', value: 0, contribution: 0.3 }]
    expect(reasonLine(now, translator('zh-CN'), NOW, 'zh-CN')).toBe('在线 · 无需等待')
  })
})

describe('recommendation query string', () => {
  it('leaves out empty filters and joins languages', () => {
    const search = recommendationSearch({
      lat: 31.23,
      lon: 121.47,
      department: 'cardiology',
      mode: 'video',
      languages: ['zh', 'en'],
      gender: '',
    })
    expect(search).toBe('lat=31.23&lon=121.47&department=cardiology&mode=video&languages=zh%2Cen')
  })
})

describe('map view', () => {
  it('frames the points with padding and keeps ground proportions', () => {
    const view = viewAround([
      { lon: 121.0, lat: 31.0 },
      { lon: 122.0, lat: 32.0 },
    ])
    expect(view).toEqual({ minLon: 120.92, maxLon: 122.08, minLat: 30.92, maxLat: 32.08 })
    expect(aspectRatio(view!)).toBeCloseTo(1 / Math.cos((31.5 * Math.PI) / 180), 5)
    expect(viewAround([])).toBeNull()
  })

  it('draws a segment only where both ends are known', () => {
    const rows = [
      { a: { lon: 1, lat: 2 }, b: { lon: 3, lat: 4 } },
      { a: { lon: 5, lat: 6 }, b: null },
    ]
    expect(segments(rows, (r) => r.a, (r) => r.b)).toEqual([{ coords: [[1, 2], [3, 4]] }])
  })
})
