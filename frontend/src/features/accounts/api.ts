/** The accounts endpoints of `/api/v1`, typed from the generated OpenAPI types. */
import { apiFetch } from '@/shared/api/client'
import type {
  Me,
  MePatch,
  RealNameRequest,
  SignupConfirmRequest,
  SignupStartRequest,
  SignupStartResponse,
  TotpEnrolment,
  Ward,
  WardRequest,
} from '@/shared/api/schemas'

export function signupStart(body: SignupStartRequest): Promise<SignupStartResponse> {
  return apiFetch('/accounts/signup/start', { method: 'POST', body, auth: false })
}

export function signupConfirm(body: SignupConfirmRequest): Promise<Me> {
  return apiFetch('/accounts/signup/confirm', { method: 'POST', body, auth: false })
}

export function meUpdate(body: MePatch): Promise<Me> {
  return apiFetch('/me', { method: 'PATCH', body })
}

export function realNameVerify(body: RealNameRequest): Promise<Me> {
  return apiFetch('/me/real-name', { method: 'POST', body })
}

export function totpEnrolBegin(): Promise<TotpEnrolment> {
  return apiFetch('/me/mfa/totp', { method: 'POST' })
}

export function totpEnrolConfirm(code: string): Promise<Me> {
  return apiFetch('/me/mfa/totp/confirm', { method: 'POST', body: { code } })
}

export function totpRemove(code: string): Promise<void> {
  return apiFetch('/me/mfa/totp', { method: 'DELETE', body: { code } })
}

export function wardsList(): Promise<Ward[]> {
  return apiFetch('/me/wards')
}

export function wardAdd(body: WardRequest): Promise<Ward> {
  return apiFetch('/me/wards', { method: 'POST', body })
}
