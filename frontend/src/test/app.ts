/** Mount components the way the app runs them: real Pinia, i18n, router (memory history). */
import { flushPromises, mount, type ComponentMountingOptions } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, type Router } from 'vue-router'
import type { Component } from 'vue'

import { createAppI18n, type AppLocale } from '@/app/i18n'
import { createAppRouter } from '@/app/router'
import { useAuthStore } from '@/features/auth/store'
import type { Me } from '@/shared/api/schemas'

export function makeMe(overrides: Partial<Me> = {}): Me {
  return {
    id: '5b0c3d3e-0000-4000-8000-000000000001',
    username: '13800138000',
    display_name: '张三',
    email: null,
    phone: '13800138000',
    roles: ['patient'],
    preferred_language: 'zh-hans',
    real_name: null,
    mfa: { totp_enabled: false, required: false },
    ...overrides,
  }
}

export interface AppContext {
  pinia: Pinia
  router: Router
  i18n: ReturnType<typeof createAppI18n>
}

/** Fresh app services; `me` signs a user in (tokens in memory, as after a completed sign-in). */
export function makeApp(options: { locale?: AppLocale; me?: Me | null } = {}): AppContext {
  const pinia = createPinia()
  setActivePinia(pinia)
  const i18n = createAppI18n(options.locale ?? 'zh-CN')
  const router = createAppRouter(pinia, createMemoryHistory())
  if (options.me) {
    const auth = useAuthStore(pinia)
    auth.accessToken = 'access-1'
    auth.refreshToken = 'refresh-1'
    auth.expiresAt = Date.now() + 3600_000
    auth.setMe(options.me)
  }
  return { pinia, router, i18n }
}

export async function mountInApp<T extends Component>(
  component: T,
  context: AppContext,
  options: ComponentMountingOptions<T> = {},
) {
  await context.router.push('/').catch(() => undefined)
  await context.router.isReady()
  const wrapper = mount(component, {
    attachTo: document.body,
    ...options,
    global: { plugins: [context.pinia, context.i18n, context.router], ...(options.global ?? {}) },
  })
  await flushPromises()
  return wrapper
}
