import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'

import { buildResidentId } from '@/features/accounts/residentId'
import ProfilePage from '@/pages/ProfilePage.vue'
import type { Me } from '@/shared/api/schemas'
import { makeApp, makeMe, mountInApp } from '@/test/app'
import { fakeNetwork, type FakeNetwork } from '@/test/fetchMock'

let network: FakeNetwork

const VALID_ID = '11010519491231002X'
const CHILD_ID = buildResidentId('310101', '2018-06-01', 124)

beforeEach(() => {
  document.body.innerHTML = ''
  network = fakeNetwork()
  network.on('GET /api/v1/me/wards', { status: 200, body: [] })
})

async function mountProfile(me: Me) {
  return mountInApp(ProfilePage, makeApp({ me }))
}

type Wrapper = Awaited<ReturnType<typeof mountProfile>>

async function fill(wrapper: Wrapper, testid: string, value: string): Promise<void> {
  await wrapper.get(`input[data-testid="${testid}"]`).setValue(value)
}

async function click(wrapper: Wrapper, testid: string): Promise<void> {
  await wrapper.get(`[data-testid="${testid}"]`).trigger('click')
  await flushPromises()
}

describe('profile: account', () => {
  it('shows the account and its roles', async () => {
    const wrapper = await mountProfile(makeMe({ roles: ['patient', 'guardian'] }))
    expect(wrapper.get('[data-testid="profile-username"]').text()).toBe('13800138000')
    expect(wrapper.get('[data-testid="profile-roles"]').text()).toBe('患者监护人')
  })

  it('renames the account', async () => {
    network.on('PATCH /api/v1/me', { status: 200, body: makeMe({ display_name: '李四' }) })
    const wrapper = await mountProfile(makeMe())
    await click(wrapper, 'profile-edit')
    await fill(wrapper, 'profile-display-name', ' 李四 ')
    await click(wrapper, 'profile-save')

    expect(network.json(network.to('PATCH /api/v1/me')[0]!)).toEqual({ display_name: '李四' })
    expect(wrapper.get('[data-testid="profile-display-name-value"]').text()).toBe('李四')
  })
})

describe('profile: real-name verification', () => {
  it('refuses a resident ID with a wrong check digit before sending', async () => {
    const wrapper = await mountProfile(makeMe())
    await fill(wrapper, 'realname-legal-name', '张三')
    await fill(wrapper, 'realname-resident-id', '110105194912310021')
    await click(wrapper, 'realname-submit')

    expect(wrapper.get('[data-testid="realname-resident-id-error"]').text()).toBe('身份证号校验码不正确，请核对')
    expect(network.to('POST /api/v1/me/real-name')).toHaveLength(0)
  })

  it('asks for the legal name and an 18-character number', async () => {
    const wrapper = await mountProfile(makeMe())
    await fill(wrapper, 'realname-resident-id', '1101051949')
    await click(wrapper, 'realname-submit')

    expect(wrapper.get('[data-testid="realname-legal-name-error"]').text()).toBe('请输入真实姓名')
    expect(wrapper.get('[data-testid="realname-resident-id-error"]').text()).toContain('18 位')
    expect(network.to('POST /api/v1/me/real-name')).toHaveLength(0)
  })

  it('sends the normalised number and then shows only the masked ID', async () => {
    network.on('POST /api/v1/me/real-name', {
      status: 200,
      body: makeMe({
        real_name: {
          legal_name: '张三',
          resident_id_masked: '1101**********002X',
          birth_date: '1949-12-31',
          sex: 'female',
          verified_at: '2026-01-15T10:00:00+08:00',
        },
      }),
    })
    const wrapper = await mountProfile(makeMe())
    await fill(wrapper, 'realname-legal-name', ' 张三 ')
    await fill(wrapper, 'realname-resident-id', '11010519491231002x')
    await click(wrapper, 'realname-submit')

    expect(network.json(network.to('POST /api/v1/me/real-name')[0]!)).toEqual({ legal_name: '张三', resident_id: VALID_ID })
    expect(wrapper.get('[data-testid="realname-masked-id"]').text()).toBe('1101**********002X')
    expect(wrapper.get('[data-testid="realname-status"]').text()).toContain('已认证')
    expect(wrapper.find('[data-testid="realname-form"]').exists()).toBe(false)
    expect(wrapper.html()).not.toContain(VALID_ID)
  })

  it('shows the server refusal', async () => {
    network.on('POST /api/v1/me/real-name', {
      status: 409,
      body: { error: { code: 'resident_id_taken', message: '该身份证号已被其他账户认证。' } },
    })
    const wrapper = await mountProfile(makeMe())
    await fill(wrapper, 'realname-legal-name', '张三')
    await fill(wrapper, 'realname-resident-id', VALID_ID)
    await click(wrapper, 'realname-submit')

    expect(wrapper.get('[data-testid="realname-error"]').text()).toContain('该身份证号已被其他账户认证。')
    expect(wrapper.find('[data-testid="realname-form"]').exists()).toBe(true)
  })
})

describe('profile: TOTP enrolment', () => {
  const SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><script>alert(1)</script><path d="M0 0h1v1H0z"/></svg>'

  it('shows the QR code as an image, the secret, and confirms with a code', async () => {
    network
      .on('POST /api/v1/me/mfa/totp', {
        status: 201,
        body: { device_id: 7, secret: 'JBSWY3DPEHPK3PXP', otpauth_uri: 'otpauth://totp/Yunyi:x?secret=JBSWY3DPEHPK3PXP', qr_svg: SVG },
      })
      .on('POST /api/v1/me/mfa/totp/confirm', { status: 200, body: makeMe({ mfa: { totp_enabled: true, required: true } }) })
    const wrapper = await mountProfile(makeMe())
    await click(wrapper, 'totp-begin')

    const img = wrapper.get('img[data-testid="totp-qr"]')
    expect(img.attributes('src')).toBe(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(SVG)}`)
    expect(wrapper.find('[data-testid="profile-totp"] svg').exists()).toBe(false)
    expect(wrapper.find('[data-testid="profile-totp"] svg script').exists()).toBe(false)
    expect(wrapper.get('[data-testid="totp-secret"]').text()).toBe('JBSW Y3DP EHPK 3PXP')

    await fill(wrapper, 'totp-code', '12345')
    await click(wrapper, 'totp-confirm')
    expect(wrapper.get('[data-testid="totp-code-error"]').text()).toBe('请输入 6 位数字验证码')
    expect(network.to('POST /api/v1/me/mfa/totp/confirm')).toHaveLength(0)

    await fill(wrapper, 'totp-code', '123456')
    await click(wrapper, 'totp-confirm')
    expect(network.json(network.to('POST /api/v1/me/mfa/totp/confirm')[0]!)).toEqual({ code: '123456' })
    expect(wrapper.get('[data-testid="totp-status"]').text()).toBe('已启用')
    expect(wrapper.find('[data-testid="totp-enrolment"]').exists()).toBe(false)
  })

  it('shows a wrong code refusal and stays on the enrolment', async () => {
    network
      .on('POST /api/v1/me/mfa/totp', { status: 201, body: { device_id: 7, secret: 'ABCD', otpauth_uri: 'otpauth://x', qr_svg: '<svg/>' } })
      .on('POST /api/v1/me/mfa/totp/confirm', { status: 400, body: { error: { code: 'invalid_totp', message: '验证码不正确。' } } })
    const wrapper = await mountProfile(makeMe())
    await click(wrapper, 'totp-begin')
    await fill(wrapper, 'totp-code', '000000')
    await click(wrapper, 'totp-confirm')

    expect(wrapper.get('[data-testid="totp-error"]').text()).toContain('验证码不正确。')
    expect(wrapper.find('[data-testid="totp-enrolment"]').exists()).toBe(true)
  })

  it('lets a patient remove TOTP with a current code', async () => {
    network
      .on('DELETE /api/v1/me/mfa/totp', { status: 204 })
      .on('GET /api/v1/me', { status: 200, body: makeMe() })
    const wrapper = await mountProfile(makeMe({ mfa: { totp_enabled: true, required: true } }))
    await fill(wrapper, 'totp-remove-code', '654321')
    await click(wrapper, 'totp-remove')

    expect(network.json(network.to('DELETE /api/v1/me/mfa/totp')[0]!)).toEqual({ code: '654321' })
    expect(wrapper.get('[data-testid="totp-status"]').text()).toBe('未启用')
  })

  it('offers staff no way to remove TOTP', async () => {
    const wrapper = await mountProfile(makeMe({ roles: ['doctor'], mfa: { totp_enabled: true, required: true } }))
    expect(wrapper.find('[data-testid="totp-remove"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="totp-begin"]').exists()).toBe(false)
    expect(wrapper.get('[data-testid="profile-totp"]').text()).toContain('必须启用两步验证')
  })
})

describe('profile: wards', () => {
  it('lists wards and adds a minor', async () => {
    network = fakeNetwork()
    network
      .on('GET /api/v1/me/wards', {
        status: 200,
        body: [{ id: 'w1', legal_name: '张小一', resident_id_masked: '3101**********1234', birth_date: '2016-02-01', sex: 'male', relationship: 'parent' }],
      })
      .on('POST /api/v1/me/wards', {
        status: 201,
        body: { id: 'w2', legal_name: '张小二', resident_id_masked: '3101**********1242', birth_date: '2018-06-01', sex: 'female', relationship: 'legal_guardian' },
      })
      .on('GET /api/v1/me', { status: 200, body: makeMe({ roles: ['guardian', 'patient'] }) })
    const wrapper = await mountProfile(makeMe())
    expect(wrapper.get('[data-testid="wards-list"]').text()).toContain('张小一')
    const open = wrapper.get('[data-testid="ward-open-record"]')
    expect([open.text(), open.attributes('title'), open.attributes('href')]).toEqual(['张小一', '查看档案', '/record?patient=w1'])

    await click(wrapper, 'ward-add')
    await fill(wrapper, 'ward-legal-name', '张小二')
    await fill(wrapper, 'ward-resident-id', CHILD_ID)
    await wrapper.get('[data-testid="ward-relationship-legal_guardian"] input').setValue(true)
    await click(wrapper, 'ward-submit')

    expect(network.json(network.to('POST /api/v1/me/wards')[0]!)).toEqual({
      legal_name: '张小二',
      resident_id: CHILD_ID,
      relationship: 'legal_guardian',
    })
    expect(wrapper.get('[data-testid="wards-list"]').text()).toContain('张小二')
    expect(wrapper.get('[data-testid="profile-roles"]').text()).toContain('监护人')
  })

  it('shows the server refusal of an adult ward', async () => {
    network.on('POST /api/v1/me/wards', { status: 400, body: { error: { code: 'not_a_minor', message: '被监护人必须未满 18 周岁。' } } })
    const wrapper = await mountProfile(makeMe())
    await click(wrapper, 'ward-add')
    await fill(wrapper, 'ward-legal-name', '张大')
    await fill(wrapper, 'ward-resident-id', VALID_ID)
    await click(wrapper, 'ward-submit')

    expect(wrapper.get('[data-testid="ward-error"]').text()).toContain('被监护人必须未满 18 周岁。')
  })
})
