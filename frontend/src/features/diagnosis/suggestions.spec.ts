import { describe, expect, it } from 'vitest'

import {
  bandType,
  changePoints,
  localized,
  percent,
  quantity,
  shortDate,
  sortSuggestions,
  sourceKind,
  withInterval,
} from '@/features/diagnosis/suggestions'
import type { Suggestion } from '@/features/diagnosis/types'

function suggestion(overrides: Partial<Suggestion>): Suggestion {
  return {
    task: 't',
    title: { en: 'T', zh: '题' },
    model: { id: 1, version: 'abc' },
    status: 'ok',
    probability: 0.5,
    ...overrides,
  } as Suggestion
}

describe('suggestion helpers', () => {
  it('picks the label in the UI language', () => {
    expect(localized({ en: 'Age', zh: '年龄' }, 'zh-CN')).toBe('年龄')
    expect(localized({ en: 'Age', zh: '年龄' }, 'en')).toBe('Age')
  })

  it('formats probabilities, intervals, changes and dates', () => {
    expect(percent(0.4567)).toBe('46%')
    expect(percent(0.4567, 1)).toBe('45.7%')
    expect(percent(null)).toBe('–')
    expect(withInterval({ value: 0.812, low: 0.74, high: 0.871 })).toBe('0.81 (0.74–0.87)')
    expect(withInterval({ value: 0.812, low: null, high: null }, 3)).toBe('0.812')
    expect(withInterval(undefined)).toBe('–')
    expect(changePoints(0.125)).toBe('+12.5')
    expect(changePoints(-0.03)).toBe('−3.0')
    expect(shortDate('2024-03-02T10:00:00+08:00')).toBe('2024-03-02')
    expect(shortDate(null)).toBe('–')
  })

  it('shows quantities rounded, counts without a unit', () => {
    expect(quantity(214.3904, 'mg/dL')).toBe('214.39 mg/dL')
    expect(quantity(2, '{#}')).toBe('2')
    expect(quantity(0.62, '1')).toBe('0.62')
    expect(quantity(null, 'mm')).toBe('mm')
    expect(quantity(null, '1')).toBe('')
  })

  it('writes UCUM codes as people do, ages in the UI language', () => {
    expect(quantity(88, 'mm[Hg]')).toBe('88 mmHg')
    expect(quantity(28.8, 'kg/m2', 'zh-CN')).toBe('28.8 kg/m²')
    expect(quantity(41, 'a', 'zh-CN')).toBe('41 岁')
    expect(quantity(41, 'a', 'en')).toBe('41 years')
  })

  it('names the kind of record an input came from', () => {
    expect(sourceKind('Observation/8093bc42-0fa0-41e1-a4fe-a0822d2b492b')).toBe('Observation')
    expect(sourceKind('Patient/60cb0365')).toBe('Patient')
    expect(sourceKind('DiagnosticReport/1')).toBe('other')
  })

  it('colours the risk bands', () => {
    expect([bandType('high'), bandType('intermediate'), bandType('low'), bandType(null)]).toEqual(['danger', 'warning', 'success', 'info'])
  })

  it('lists computed suggestions first, by probability, then refused, then missing inputs', () => {
    const sorted = sortSuggestions([
      suggestion({ task: 'a', status: 'missing_inputs', probability: null }),
      suggestion({ task: 'b', probability: 0.2 }),
      suggestion({ task: 'c', status: 'refused', probability: null }),
      suggestion({ task: 'd', probability: 0.9 }),
    ])
    expect(sorted.map((s) => s.task)).toEqual(['d', 'b', 'c', 'a'])
  })
})
