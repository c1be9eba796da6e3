/** The doctors endpoints of `/api/v1`, typed from the generated OpenAPI types. */
import { apiFetch, authorizedFetch, errorFromResponse, API_PREFIX } from '@/shared/api/client'
import type { components } from '@/types/api'

type Schemas = components['schemas']

export type Department = Schemas['DepartmentOut']
export type DoctorCard = Schemas['DoctorCardOut']
export type DoctorPublic = Schemas['DoctorPublicOut']
export type Slot = Schemas['SlotOut']
export type OwnProfile = Schemas['OwnProfileOut']
export type ProfileRequest = Schemas['ProfileIn']
export type Schedule = Schemas['ScheduleOut']
export type ScheduleRequest = Schemas['ScheduleIO']
export type ScheduleTemplate = Schemas['TemplateIO']
export type ScheduleException = Schemas['ExceptionIO']
export type Presence = Schemas['PresenceOut']
export type PresenceRequest = Schemas['PresenceIn']
export type Licence = Schemas['LicenceOut']
export type LicenceReview = Schemas['LicenceReviewOut']
export type LicencePage = Schemas['LicencePageOut']
export type DecisionRequest = Schemas['DecisionIn']
export type Decision = DecisionRequest['decision']

export function departmentsList(): Promise<Department[]> {
  return apiFetch('/departments', { auth: false })
}

export function doctorPublic(id: string): Promise<DoctorPublic> {
  return apiFetch(`/doctors/${encodeURIComponent(id)}`, { auth: false })
}

export function ownProfile(): Promise<OwnProfile> {
  return apiFetch('/doctors/me/profile')
}

export function ownProfileSave(body: ProfileRequest): Promise<OwnProfile> {
  return apiFetch('/doctors/me/profile', { method: 'PUT', body })
}

export function ownSchedule(): Promise<Schedule> {
  return apiFetch('/doctors/me/schedule')
}

export function ownScheduleSave(body: ScheduleRequest): Promise<Schedule> {
  return apiFetch('/doctors/me/schedule', { method: 'PUT', body })
}

export function presenceSet(body: PresenceRequest): Promise<Presence> {
  return apiFetch('/doctors/me/presence', { method: 'POST', body })
}

/** Multipart uploads go through `authorizedFetch`: `apiFetch` sends JSON only. */
async function postForm<T>(path: string, form: FormData): Promise<T> {
  const response = await authorizedFetch((token) =>
    fetch(`${API_PREFIX}${path}`, {
      method: 'POST',
      headers: {
        Accept: 'application/json',
        'Accept-Language': document.documentElement.lang || 'zh-CN',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: form,
      credentials: 'same-origin',
    }),
  )
  if (!response.ok) throw await errorFromResponse(response)
  return (await response.json()) as T
}

export function licenceSubmit(number: string, documents: readonly File[]): Promise<Licence> {
  const form = new FormData()
  form.set('number', number)
  for (const file of documents) form.append('documents', file)
  return postForm('/doctors/me/licence', form)
}

export function photoUpload(photo: File): Promise<OwnProfile> {
  const form = new FormData()
  form.set('photo', photo)
  return postForm('/doctors/me/profile/photo', form)
}

export function licenceQueue(status: string, offset = 0, limit = 50): Promise<LicencePage> {
  const query = new URLSearchParams({ status, offset: String(offset), limit: String(limit) })
  return apiFetch(`/licences?${query.toString()}`)
}

export function licenceDecide(id: string, body: DecisionRequest): Promise<LicenceReview> {
  return apiFetch(`/licences/${encodeURIComponent(id)}/decision`, { method: 'POST', body })
}

/**
 * One scan of a licence (0-based) as an object URL, for the reviewing administrator: the file
 * needs the bearer token, which a plain link cannot send. The caller revokes the URL.
 */
export async function licenceDocumentUrl(id: string, index: number): Promise<string> {
  const response = await authorizedFetch((token) =>
    fetch(`${API_PREFIX}/licences/${encodeURIComponent(id)}/documents/${index}`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      credentials: 'same-origin',
    }),
  )
  if (!response.ok) throw await errorFromResponse(response)
  return URL.createObjectURL(await response.blob())
}
