import { describe, expect, it } from 'vitest'

import messages from '@/features/practitioners/messages'
import {
  avatarFor,
  canSubmitLicence,
  decisionsFor,
  formatFee,
  localDay,
  localTime,
  minutesOf,
  reasonRequired,
  scheduleProblems,
  slotsByDay,
  slotsPerDay,
  yuanToFen,
  zoneName,
  type TemplateDraft,
} from '@/features/practitioners/practice'

function leafKeys(tree: object, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === 'object' ? leafKeys(value as object, `${prefix}${key}.`) : [`${prefix}${key}`],
  )
}

function block(weekday: number, start: string, end: string, slot = 30, modes = ['video']): TemplateDraft {
  return { weekday, start_time: start, end_time: end, slot_minutes: slot, modes }
}

describe('practitioners messages', () => {
  it('zh-CN and en have the same keys under the practitioners namespace', () => {
    expect(Object.keys(messages['zh-CN'])).toEqual(['practitioners'])
    expect(leafKeys(messages.en).sort()).toEqual(leafKeys(messages['zh-CN']).sort())
  })
})

describe('schedule checks', () => {
  it('reads times with or without seconds and refuses others', () => {
    expect(minutesOf('09:30')).toBe(570)
    expect(minutesOf('09:30:00')).toBe(570)
    expect(minutesOf('24:00')).toBeNaN()
    expect(minutesOf('9:30')).toBeNaN()
  })

  it('finds the same problems as the server, by row', () => {
    const problems = scheduleProblems([
      block(0, '09:00', '17:00'),
      block(0, '10:00', '11:00'),
      block(0, '12:00', '13:00'),
      block(1, '10:00', '09:00'),
      block(2, '09:00', '10:00', 45),
      block(3, '09:00', '10:00', 2),
      block(4, '09:00', '10:00', 30, []),
      block(5, '09:00', '10:00'),
      block(6, '9h', '10:00'),
    ])
    expect(problems).toEqual([
      { index: 1, kind: 'overlap' },
      { index: 2, kind: 'overlap' },
      { index: 3, kind: 'order' },
      { index: 4, kind: 'notDividing' },
      { index: 5, kind: 'slotLength' },
      { index: 6, kind: 'noModes' },
      { index: 8, kind: 'time' },
    ])
  })

  it('lets blocks touch and repeat on other days', () => {
    expect(scheduleProblems([block(0, '09:00', '12:00'), block(0, '12:00', '13:00'), block(1, '09:00', '12:00')])).toEqual([])
  })

  it('counts slots per day, zero when the block cannot be cut', () => {
    expect(slotsPerDay(block(0, '09:00', '12:00', 30))).toBe(6)
    expect(slotsPerDay(block(0, '09:00', '10:00', 45))).toBe(0)
  })
})

describe('slots by day', () => {
  it('groups instants by the doctor\u2019s local day, in time order', () => {
    const slots = [
      { start: '2026-12-07T16:30:00Z', end: '2026-12-07T17:00:00Z', modes: ['video'] }, // 00:30 on the 8th in Shanghai
      { start: '2026-12-07T01:30:00Z', end: '2026-12-07T02:00:00Z', modes: ['video'] },
      { start: '2026-12-07T01:00:00Z', end: '2026-12-07T01:30:00Z', modes: ['text'] },
    ]
    const days = slotsByDay(slots, 'Asia/Shanghai')
    expect(days.map((day) => [day.day, day.slots.map((s) => s.time)])).toEqual([
      ['2026-12-07', ['09:00', '09:30']],
      ['2026-12-08', ['00:30']],
    ])
  })

  it('follows daylight saving in zones that have it', () => {
    expect(localTime('2026-07-01T13:00:00Z', 'America/New_York')).toBe('09:00')
    expect(localTime('2026-12-01T14:00:00Z', 'America/New_York')).toBe('09:00')
    expect(localDay('2026-12-01T03:00:00Z', 'America/New_York')).toBe('2026-11-30')
  })
})

describe('money', () => {
  it('shows fen as yuan', () => {
    expect(formatFee(5000, 'zh-CN')).toBe('¥50.00')
    expect(formatFee(1999, 'en')).toBe('CN¥19.99')
  })

  it('reads yuan into whole fen and refuses anything else', () => {
    expect(yuanToFen('50')).toBe(5000)
    expect(yuanToFen('19.99')).toBe(1999)
    expect(yuanToFen(' 0.1 ')).toBe(10)
    for (const bad of ['', '-1', '1.234', 'abc', '1e5', '10000000']) expect(yuanToFen(bad)).toBeNull()
  })
})

describe('avatar', () => {
  it('uses the surname of a Chinese name and initials otherwise, with a stable colour', () => {
    expect(avatarFor('张医生').initials).toBe('张')
    expect(avatarFor('Anna Li').initials).toBe('AL')
    expect(avatarFor('  ').initials).toBe('?')
    expect(avatarFor('张医生').color).toBe(avatarFor('张医生').color)
    expect(avatarFor('张医生').color).not.toBe(avatarFor('王医生').color)
  })
})

describe('licence rules', () => {
  it('offers the decisions the server allows from each status', () => {
    expect(decisionsFor('pending')).toEqual(['verify', 'reject'])
    expect(decisionsFor('verified')).toEqual(['suspend'])
    expect(decisionsFor('suspended')).toEqual(['reinstate'])
    expect(decisionsFor('rejected')).toEqual([])
  })

  it('requires a reason for everything but a verification', () => {
    expect(reasonRequired('verify')).toBe(false)
    expect(['reject', 'suspend', 'reinstate'].every((d) => reasonRequired(d as 'reject'))).toBe(true)
  })

  it('lets a doctor submit when no licence is open', () => {
    expect(canSubmitLicence(null)).toBe(true)
    expect(canSubmitLicence('rejected')).toBe(true)
    expect(canSubmitLicence('pending')).toBe(false)
    expect(canSubmitLicence('suspended')).toBe(false)
  })
})

describe('time zone names', () => {
  it('names a zone in the UI language, and falls back to the id', () => {
    const winter = new Date('2026-01-15T00:00:00Z')
    expect(zoneName('Asia/Shanghai', 'zh-CN', winter)).toBe('中国标准时间')
    expect(zoneName('Asia/Shanghai', 'en', winter)).toBe('China Standard Time')
    expect(zoneName('Not/AZone', 'en', winter)).toBe('Not/AZone')
  })
})
