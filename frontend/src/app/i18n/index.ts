/**
 * The app's languages: zh-CN (default) and en. Switching also sets the `django_language` cookie
 * so the server's own pages (login, consent) follow, and the <html lang> the API client sends as
 * Accept-Language.
 */
import { computed, type WritableComputedRef } from 'vue'
import { createI18n, useI18n } from 'vue-i18n'

import en from '@/app/i18n/en'
import { withFeatureMessages } from '@/app/i18n/features'
import zhCN from '@/app/i18n/zh-CN'

export const SUPPORTED_LOCALES = ['zh-CN', 'en'] as const
export type AppLocale = (typeof SUPPORTED_LOCALES)[number]
export const DEFAULT_LOCALE: AppLocale = 'zh-CN'

export type MessageSchema = typeof zhCN

/** Django's language codes (settings.LANGUAGES) for each app locale. */
const DJANGO_LANGUAGE: Record<AppLocale, 'zh-hans' | 'en'> = { 'zh-CN': 'zh-hans', en: 'en' }
export const LANGUAGE_COOKIE = 'django_language'
const ONE_YEAR_SECONDS = 365 * 24 * 3600

export function isAppLocale(value: unknown): value is AppLocale {
  return typeof value === 'string' && (SUPPORTED_LOCALES as readonly string[]).includes(value)
}

export function djangoLanguageFor(locale: AppLocale): 'zh-hans' | 'en' {
  return DJANGO_LANGUAGE[locale]
}

export function localeFromDjangoLanguage(language: string | null | undefined): AppLocale | null {
  if (!language) return null
  const lower = language.toLowerCase()
  if (lower === 'en' || lower.startsWith('en-')) return 'en'
  if (lower.startsWith('zh')) return 'zh-CN'
  return null
}

function readCookie(name: string): string | null {
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) return decodeURIComponent(rest.join('='))
  }
  return null
}

/** The language the server pages already use (cookie), else the default. */
export function detectLocale(): AppLocale {
  return localeFromDjangoLanguage(readCookie(LANGUAGE_COOKIE)) ?? DEFAULT_LOCALE
}

export function writeLanguageCookie(locale: AppLocale): void {
  document.cookie =
    `${LANGUAGE_COOKIE}=${djangoLanguageFor(locale)}; path=/; max-age=${ONE_YEAR_SECONDS}; samesite=lax`
}

const DATETIME_FORMATS = {
  short: { year: 'numeric', month: '2-digit', day: '2-digit' },
  long: { year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit' },
} as const

export function createAppI18n(locale: AppLocale = detectLocale()) {
  document.documentElement.lang = locale
  return createI18n<[MessageSchema], AppLocale, false>({
    legacy: false,
    locale,
    fallbackLocale: DEFAULT_LOCALE,
    messages: { 'zh-CN': withFeatureMessages(zhCN, 'zh-CN'), en: withFeatureMessages(en, 'en') },
    datetimeFormats: { 'zh-CN': DATETIME_FORMATS, en: DATETIME_FORMATS },
  })
}

/** The current locale and a setter that keeps <html lang> and the server cookie in step. */
export function useAppLocale(): { locale: WritableComputedRef<AppLocale>; setLocale: (next: AppLocale) => void } {
  const { locale: i18nLocale } = useI18n({ useScope: 'global' })
  function setLocale(next: AppLocale): void {
    i18nLocale.value = next
    document.documentElement.lang = next
    writeLanguageCookie(next)
  }
  const locale = computed<AppLocale>({
    get: () => (isAppLocale(i18nLocale.value) ? i18nLocale.value : DEFAULT_LOCALE),
    set: setLocale,
  })
  return { locale, setLocale }
}
