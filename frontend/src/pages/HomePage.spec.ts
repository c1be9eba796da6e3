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
    // Shipped pages are links, not "coming soon".
    expect(patient.text()).not.toContain('即将推出')
    const links = patient.findAll('a').map((a) => a.attributes('href'))
    expect(links).toEqual(['/profile#real-name', '/record', '/symptom-check', '/find-doctor'])
    expect(wrapper.find('[data-testid="home-verify-link"]').exists()).toBe(true)
  })

  it('shows each role of a staff member, in English', async () => {
    const wrapper = await mountInApp(HomePage, makeApp({ locale: 'en', me: makeMe({ roles: ['doctor', 'admin'], display_name: 'Dr Li' }) }))
    expect(wrapper.get('[data-testid="home-welcome"]').text()).toBe('Welcome, Dr Li')
    expect(wrapper.get('[data-testid="home-role-doctor"]').text()).toContain('Doctor workbench')
    expect(wrapper.get('[data-testid="home-role-doctor"] a[href="/practice"]').text()).toContain('Open')
    expect(wrapper.findAll('[data-testid="home-role-admin"] a').map((a) => a.attributes('href'))).toEqual([
      '/licence-review',
      '/model-registry',
      '/admin/',
    ])
    expect(wrapper.find('[data-testid="home-role-patient"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="home-verify-link"]').exists()).toBe(false)
  })

  it('links an operator to the assignment and regions maps; rentals are still to come', async () => {
    const wrapper = await mountInApp(HomePage, makeApp({ me: makeMe({ roles: ['operator'] }) }))
    const operator = wrapper.get('[data-testid="home-role-operator"]')
    expect(operator.findAll('a').map((a) => a.attributes('href'))).toEqual(['/operations/assignment', '/operations/regions'])
    expect(operator.text()).toContain('设备租赁')
    expect(operator.text()).toContain('即将推出')
  })
})
