import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import App from '@/app/App.vue'
import AppHeader from '@/app/layout/AppHeader.vue'
import { browser } from '@/shared/browser'
import { makeApp, makeMe, mountInApp } from '@/test/app'
import { fakeNetwork, type FakeNetwork } from '@/test/fetchMock'

let network: FakeNetwork
let assigned: string[]

beforeEach(() => {
  document.body.innerHTML = ''
  document.cookie = 'django_language=; path=/; max-age=0'
  sessionStorage.clear()
  network = fakeNetwork()
  assigned = []
  vi.spyOn(browser, 'assign').mockImplementation((url: string) => {
    assigned.push(url)
  })
})

async function mountHeader(roles: string[] | null, locale: 'zh-CN' | 'en' = 'zh-CN') {
  return mountInApp(AppHeader, makeApp({ locale, me: roles ? makeMe({ roles }) : null }))
}

describe('navigation by role', () => {
  it('shows a patient home, their record, the symptom check and the doctor search', async () => {
    const wrapper = await mountHeader(['patient'])
    const nav = wrapper.get('[data-testid="main-nav"]')

    expect(nav.get('[data-testid="nav-home"]').attributes('href')).toBe('/')
    expect(nav.get('[data-testid="nav-records"]').attributes('href')).toBe('/record')
    expect(nav.get('[data-testid="nav-symptom-check"]').attributes('href')).toBe('/symptom-check')
    expect(nav.get('[data-testid="nav-find-doctor"]').attributes('href')).toBe('/find-doctor')
    expect(nav.text()).toBe('首页我的档案症状自查找医生')
  })

  it('shows a doctor the workbench, a pharmacist prescription review, an operator rentals', async () => {
    const doctor = await mountHeader(['doctor'])
    expect(doctor.get('[data-testid="nav-patients"]').attributes('href')).toBe('/patients')
    expect(doctor.get('[data-testid="nav-patients"]').text()).toBe('我的患者')
    expect(doctor.get('[data-testid="nav-workbench"]').text()).toBe('工作台 即将推出')
    expect((await mountHeader(['pharmacist'])).get('[data-testid="nav-rx-review"]').text()).toBe('处方审核 即将推出')
    expect((await mountHeader(['operator'])).get('[data-testid="nav-rentals"]').text()).toBe('设备租赁 即将推出')
  })

  it('links an admin to the admin site, in English too', async () => {
    const wrapper = await mountHeader(['admin'], 'en')
    const admin = wrapper.get('[data-testid="nav-admin"]')
    expect(admin.element.tagName).toBe('A')
    expect(admin.attributes('href')).toBe('/admin/')
    expect(admin.text()).toBe('Administration')
    expect(wrapper.find('[data-testid="nav-records"]').exists()).toBe(false)
  })

  it('shows no navigation but sign-in and register when signed out', async () => {
    const wrapper = await mountHeader(null)
    expect(wrapper.find('[data-testid="main-nav"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="user-menu"]').exists()).toBe(false)
    expect(wrapper.get('[data-testid="header-register"]').attributes('href')).toBe('/register')

    await wrapper.get('[data-testid="header-signin"]').trigger('click')
    await vi.waitFor(() => expect(assigned).toHaveLength(1))
    expect(new URL(assigned[0]!).pathname).toBe('/o/authorize/')
  })
})

describe('user menu', () => {
  it('signs out through the menu: revoke, then RP-initiated logout', async () => {
    network.on('POST /o/revoke_token/', { status: 200 })
    const wrapper = await mountHeader(['patient'])
    expect(wrapper.get('[data-testid="user-menu-name"]').text()).toBe('张三')

    await wrapper.get('[data-testid="user-menu"]').trigger('click')
    await flushPromises()
    const signOut = document.body.querySelector<HTMLElement>('[data-testid="signout-button"]')
    expect(signOut).not.toBeNull()
    signOut!.click()
    await vi.waitFor(() => expect(assigned).toHaveLength(1))

    expect(network.to('POST /o/revoke_token/')).toHaveLength(2)
    expect(new URL(assigned[0]!).pathname).toBe('/o/logout/')
    expect(wrapper.find('[data-testid="user-menu"]').exists()).toBe(false)
  })
})

describe('language switch', () => {
  it('switches the UI to English, sets <html lang> and the django_language cookie', async () => {
    const context = makeApp({ locale: 'zh-CN' })
    const wrapper = await mountInApp(App, context)
    expect(wrapper.get('[data-testid="header-signin"]').text()).toBe('登录')
    expect(wrapper.get('[data-testid="language-zh-CN"]').attributes('aria-pressed')).toBe('true')

    await wrapper.get('[data-testid="language-en"]').trigger('click')
    await flushPromises()

    expect(wrapper.get('[data-testid="header-signin"]').text()).toBe('Sign in')
    expect(wrapper.get('[data-testid="language-en"]').attributes('aria-pressed')).toBe('true')
    expect(document.documentElement.lang).toBe('en')
    expect(document.cookie).toContain('django_language=en')
    expect(document.title).toBe('Home · 云医 Yunyi')
    expect(network.requests).toHaveLength(0)

    await wrapper.get('[data-testid="language-zh-CN"]').trigger('click')
    expect(document.cookie).toContain('django_language=zh-hans')
    expect(document.documentElement.lang).toBe('zh-CN')
    expect(wrapper.get('[data-testid="header-signin"]').text()).toBe('登录')
  })

  it('stores the choice on the account when signed in', async () => {
    network.on('PATCH /api/v1/me', { status: 200, body: makeMe({ preferred_language: 'en' }) })
    const wrapper = await mountHeader(['patient'])

    await wrapper.get('[data-testid="language-en"]').trigger('click')
    await flushPromises()

    expect(network.json(network.to('PATCH /api/v1/me')[0]!)).toEqual({ preferred_language: 'en' })
    expect(network.to('PATCH /api/v1/me')[0]!.headers['accept-language']).toBe('en')
  })

  it('passes the chosen language to the login page as ui_locales', async () => {
    const wrapper = await mountHeader(null)
    await wrapper.get('[data-testid="language-en"]').trigger('click')
    await wrapper.get('[data-testid="header-signin"]').trigger('click')
    await vi.waitFor(() => expect(assigned).toHaveLength(1))
    expect(new URL(assigned[0]!).searchParams.get('ui_locales')).toBe('en')
  })
})
