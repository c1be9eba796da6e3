/** Cities a patient can pick when the browser gives no location (the first is the default). */
export interface City {
  key: string
  zh: string
  en: string
  lat: number
  lon: number
}

export const CITIES: readonly City[] = [
  { key: 'shanghai', zh: '上海', en: 'Shanghai', lat: 31.2304, lon: 121.4737 },
  { key: 'beijing', zh: '北京', en: 'Beijing', lat: 39.9042, lon: 116.4074 },
  { key: 'guangzhou', zh: '广州', en: 'Guangzhou', lat: 23.1291, lon: 113.2644 },
  { key: 'shenzhen', zh: '深圳', en: 'Shenzhen', lat: 22.5431, lon: 114.0579 },
  { key: 'chengdu', zh: '成都', en: 'Chengdu', lat: 30.5728, lon: 104.0668 },
  { key: 'hangzhou', zh: '杭州', en: 'Hangzhou', lat: 30.2741, lon: 120.1551 },
  { key: 'wuhan', zh: '武汉', en: 'Wuhan', lat: 30.5928, lon: 114.3055 },
  { key: 'xian', zh: '西安', en: "Xi'an", lat: 34.3416, lon: 108.9398 },
]

export const MODES = ['video', 'text', 'in_person', 'home_visit'] as const
export type Mode = (typeof MODES)[number]
