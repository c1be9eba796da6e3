import { beforeEach, describe, expect, it } from 'vitest'

import HomePage from '@/pages/HomePage.vue'
import { makeApp, makeMe, mountInApp } from '@/test/app'
import { fakeNetwork } from '@/test/fetchMock'

beforeEach(() => {
  document.body.innerHTML = ''
  fakeNetwork()
})

describe('home page', () => {
  it('invites a visitor to sign in or register', async () => {
    const wrapper = await mountInApp(HomePage, makeApp())
    expect(wrapper.find('[data-testid="home-guest"]').exists()).toBe(true)
    expect(wrapper.get('[data-testid="home-signin"]').text()).toBe('登录')
  })

  it('welcomes a patient by name with what a patient can do', async () => {
    const wrapper = await mountInApp(HomePage, makeApp({ me: makeMe() }))
    expect(wrapper.get('[data-testid="home-welcome"]').text()).toBe('您好，张三')
    const patient = wrapper.get('[data-testid="home-role-patient"]')
    expect(patient.text()).toContain('实名认证')
    expect(patient.text()).toContain('即将推出')
    expect(wrapper.find('[data-testid="home-verify-link"]').exists()).toBe(true)
  })

  it('shows each role of a staff member, in English', async () => {
    const wrapper = await mountInApp(HomePage, makeApp({ locale: 'en', me: makeMe({ roles: ['doctor', 'admin'], display_name: 'Dr Li' }) }))
    expect(wrapper.get('[data-testid="home-welcome"]').text()).toBe('Welcome, Dr Li')
    expect(wrapper.get('[data-testid="home-role-doctor"]').text()).toContain('Doctor workbench')
    expect(wrapper.get('[data-testid="home-role-admin"] a').attributes('href')).toBe('/admin/')
    expect(wrapper.find('[data-testid="home-role-patient"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="home-verify-link"]').exists()).toBe(false)
  })
})
