import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import RegisterPage from '@/pages/RegisterPage.vue'
import { browser } from '@/shared/browser'
import { makeApp, makeMe, mountInApp } from '@/test/app'
import { fakeNetwork, type FakeNetwork } from '@/test/fetchMock'

let network: FakeNetwork

beforeEach(() => {
  document.body.innerHTML = ''
  sessionStorage.clear()
  network = fakeNetwork()
})

async function mountRegister(locale: 'zh-CN' | 'en' = 'zh-CN') {
  return mountInApp(RegisterPage, makeApp({ locale }))
}

type Wrapper = Awaited<ReturnType<typeof mountRegister>>

async function fill(wrapper: Wrapper, testid: string, value: string): Promise<void> {
  await wrapper.get(`input[data-testid="${testid}"]`).setValue(value)
}

async function click(wrapper: Wrapper, testid: string): Promise<void> {
  await wrapper.get(`[data-testid="${testid}"]`).trigger('click')
  await flushPromises()
}

async function reachConfirmStep(wrapper: Wrapper): Promise<void> {
  network.on('POST /api/v1/accounts/signup/start', { status: 202, body: { signup_id: 'su-1', expires_in: 600 } })
  await fill(wrapper, 'register-address', '+86 138-0013-8000')
  await click(wrapper, 'register-send-code')
}

describe('register: step 1, address', () => {
  it('refuses an invalid mobile number without calling the server', async () => {
    const wrapper = await mountRegister()
    await fill(wrapper, 'register-address', '12345')
    await click(wrapper, 'register-send-code')

    expect(wrapper.text()).toContain('请输入有效的中国大陆手机号')
    expect(network.requests).toHaveLength(0)
  })

  it('refuses an invalid e-mail address, in English when the user chose English', async () => {
    const wrapper = await mountRegister('en')
    await click(wrapper, 'register-channel-email')
    await fill(wrapper, 'register-address', 'not-an-address')
    await click(wrapper, 'register-send-code')

    expect(wrapper.text()).toContain('Enter a valid e-mail address')
    expect(network.requests).toHaveLength(0)
  })

  it('sends the normalised number and moves to the code step', async () => {
    const wrapper = await mountRegister()
    await reachConfirmStep(wrapper)

    expect(network.json(network.to('POST /api/v1/accounts/signup/start')[0]!)).toEqual({
      channel: 'phone',
      address: '13800138000',
    })
    expect(network.to('POST /api/v1/accounts/signup/start')[0]!.headers.authorization).toBeUndefined()
    expect(wrapper.get('[data-testid="register-code-sent"]').text()).toBe('验证码已发送至 13800138000，10 分钟内有效。')
    expect(wrapper.find('input[data-testid="register-code"]').exists()).toBe(true)
  })

  it('shows the server message when the address is already registered', async () => {
    network.on('POST /api/v1/accounts/signup/start', {
      status: 409,
      body: { error: { code: 'already_registered', message: '该手机号已注册。' } },
    })
    const wrapper = await mountRegister()
    await fill(wrapper, 'register-address', '13800138000')
    await click(wrapper, 'register-send-code')

    expect(wrapper.get('[data-testid="register-error"]').text()).toContain('该手机号已注册。')
    expect(wrapper.find('input[data-testid="register-code"]').exists()).toBe(false)
  })
})

describe('register: step 2, code and password', () => {
  it('validates code, display name, password length and confirmation before sending', async () => {
    const wrapper = await mountRegister()
    await reachConfirmStep(wrapper)
    await fill(wrapper, 'register-code', '12a')
    await fill(wrapper, 'register-password', 'short')
    await fill(wrapper, 'register-password-confirm', 'other')
    await click(wrapper, 'register-submit')

    const text = wrapper.text()
    expect(text).toContain('请输入 6 位数字验证码')
    expect(text).toContain('请输入昵称')
    expect(text).toContain('密码至少需要 8 个字符')
    expect(text).toContain('两次输入的密码不一致')
    expect(network.to('POST /api/v1/accounts/signup/confirm')).toHaveLength(0)
  })

  it('shows the password validator messages the server returns', async () => {
    network.on('POST /api/v1/accounts/signup/confirm', {
      status: 422,
      body: {
        error: {
          code: 'weak_password',
          message: '密码不够安全。',
          details: { messages: ['这个密码太常见了。', '密码全部为数字。'] },
        },
      },
    })
    const wrapper = await mountRegister()
    await reachConfirmStep(wrapper)
    await fill(wrapper, 'register-code', '123456')
    await fill(wrapper, 'register-display-name', '小明')
    await fill(wrapper, 'register-password', '12345678')
    await fill(wrapper, 'register-password-confirm', '12345678')
    await click(wrapper, 'register-submit')

    const alert = wrapper.get('[data-testid="register-error"]')
    expect(alert.text()).toContain('密码不够安全。')
    expect(alert.findAll('li').map((li) => li.text())).toEqual(['这个密码太常见了。', '密码全部为数字。'])
    expect(wrapper.find('[data-testid="register-success"]').exists()).toBe(false)
  })

  it('creates the account, then offers to sign in through OAuth', async () => {
    const assign = vi.spyOn(browser, 'assign').mockImplementation(() => undefined)
    network.on('POST /api/v1/accounts/signup/confirm', { status: 201, body: makeMe({ display_name: '小明' }) })
    const wrapper = await mountRegister()
    await reachConfirmStep(wrapper)
    await fill(wrapper, 'register-code', ' 123456 ')
    await fill(wrapper, 'register-display-name', ' 小明 ')
    await fill(wrapper, 'register-password', 'Kangaroo-Lamp-42')
    await fill(wrapper, 'register-password-confirm', 'Kangaroo-Lamp-42')
    await click(wrapper, 'register-submit')

    expect(network.json(network.to('POST /api/v1/accounts/signup/confirm')[0]!)).toEqual({
      signup_id: 'su-1',
      code: '123456',
      password: 'Kangaroo-Lamp-42',
      display_name: '小明',
    })
    expect(wrapper.get('[data-testid="register-success"]').text()).toContain('13800138000')

    await click(wrapper, 'register-signin')
    await vi.waitFor(() => expect(assign).toHaveBeenCalledTimes(1))
    expect(new URL(assign.mock.calls[0]![0]).pathname).toBe('/o/authorize/')
  })
})
