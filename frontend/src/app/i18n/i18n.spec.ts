import { describe, expect, it } from 'vitest'

import { DEFAULT_LOCALE, createAppI18n, detectLocale, djangoLanguageFor, localeFromDjangoLanguage } from '@/app/i18n'
import en from '@/app/i18n/en'
import { FEATURE_MESSAGES } from '@/app/i18n/features'
import zhCN from '@/app/i18n/zh-CN'

function leafKeys(messages: object, prefix = ''): string[] {
  return Object.entries(messages).flatMap(([key, value]) =>
    value !== null && typeof value === 'object' ? leafKeys(value as object, `${prefix}${key}.`) : [`${prefix}${key}`],
  )
}

function leafValues(messages: object): unknown[] {
  return Object.values(messages).flatMap((value) =>
    value !== null && typeof value === 'object' ? leafValues(value as object) : [value],
  )
}

describe('messages', () => {
  it('zh-CN and en have identical key sets', () => {
    expect(leafKeys(en).sort()).toEqual(leafKeys(zhCN).sort())
    expect(leafKeys(zhCN).length).toBeGreaterThan(150)
  })

  it('every message is a non-empty string', () => {
    for (const value of [...leafValues(zhCN), ...leafValues(en)]) {
      expect(typeof value).toBe('string')
      expect((value as string).trim()).not.toBe('')
    }
  })

  it('compiles every message in both locales without errors (no raw @ or |)', () => {
    const i18n = createAppI18n('zh-CN')
    for (const locale of ['zh-CN', 'en'] as const) {
      i18n.global.locale.value = locale
      for (const key of leafKeys(zhCN)) {
        expect(() => i18n.global.t(key, { name: 'N', role: 'R', address: 'A', minutes: 5, username: 'U', seconds: 3, count: 2, date: 'D' })).not.toThrow()
      }
    }
    i18n.global.locale.value = 'en'
    expect(i18n.global.t('register.emailPlaceholder')).toBe('e.g. name@example.com')
  })

  it('zh-CN is the default locale', () => {
    document.cookie = 'django_language=; path=/; max-age=0'
    expect(DEFAULT_LOCALE).toBe('zh-CN')
    expect(detectLocale()).toBe('zh-CN')
  })
})

describe('feature messages', () => {
  it('each feature has the same keys in both locales, under namespaces of its own', () => {
    const taken = new Set(Object.keys(zhCN))
    for (const [path, feature] of Object.entries(FEATURE_MESSAGES)) {
      expect(leafKeys(feature.en).sort(), path).toEqual(leafKeys(feature['zh-CN']).sort())
      for (const namespace of Object.keys(feature['zh-CN'])) {
        expect(taken.has(namespace), `${path}: ${namespace} is taken`).toBe(false)
        taken.add(namespace)
      }
      for (const value of [...leafValues(feature['zh-CN']), ...leafValues(feature.en)]) {
        expect(typeof value).toBe('string')
        expect((value as string).trim()).not.toBe('')
      }
    }
  })
})

describe('server language mapping', () => {
  it('maps app locales to Django language codes and back', () => {
    expect(djangoLanguageFor('zh-CN')).toBe('zh-hans')
    expect(djangoLanguageFor('en')).toBe('en')
    expect(localeFromDjangoLanguage('zh-hans')).toBe('zh-CN')
    expect(localeFromDjangoLanguage('en')).toBe('en')
    expect(localeFromDjangoLanguage('en-us')).toBe('en')
    expect(localeFromDjangoLanguage('fr')).toBeNull()
    expect(localeFromDjangoLanguage(null)).toBeNull()
  })

  it('starts in the language the server pages use (django_language cookie)', () => {
    document.cookie = 'django_language=en; path=/'
    expect(detectLocale()).toBe('en')
    document.cookie = 'django_language=; path=/; max-age=0'
  })
})
