/** The matching endpoints of `/api/v1`, typed from the generated OpenAPI types. */
import { apiFetch } from '@/shared/api/client'
import type { components } from '@/types/api'

type Schemas = components['schemas']

export type Recommendations = Schemas['RecommendationsOut']
export type Recommendation = Schemas['RecommendationOut']
export type Reason = Schemas['MatchReasonOut']
export type AssignmentRun = Schemas['AssignmentRunOut']
export type AssignmentRunRequest = Schemas['AssignmentRunIn']
export type Regions = Schemas['ServiceRegionsOut']
export type Department = Schemas['DepartmentOut']
export type MapConfig = Schemas['MapConfigOut']

export interface RecommendationQuery {
  lat: number
  lon: number
  department: string
  mode: string
  start?: string
  end?: string
  languages?: string[]
  gender?: string
  limit?: number
  radiusKm?: number
}

/** The query string of a recommendation search (empty filters are left out). */
export function recommendationSearch(query: RecommendationQuery): string {
  const params = new URLSearchParams({
    lat: String(query.lat),
    lon: String(query.lon),
    department: query.department,
    mode: query.mode,
  })
  if (query.start) params.set('start', query.start)
  if (query.end) params.set('end', query.end)
  if (query.languages?.length) params.set('languages', query.languages.join(','))
  if (query.gender) params.set('gender', query.gender)
  if (query.limit) params.set('limit', String(query.limit))
  if (query.radiusKm) params.set('radius_km', String(query.radiusKm))
  return params.toString()
}

export function recommendationsFetch(query: RecommendationQuery): Promise<Recommendations> {
  return apiFetch(`/matching/recommendations?${recommendationSearch(query)}`)
}

/** A department's name in the UI language (its code when the catalogue does not know it). */
export function departmentName(departments: readonly Department[], code: string, locale: string): string {
  const found = departments.find((d) => d.code === code)
  if (!found) return code
  return locale === 'en' ? found.en : found.zh
}

export function departmentsList(): Promise<Department[]> {
  return apiFetch('/departments', { auth: false })
}

export function assignmentRun(body: AssignmentRunRequest): Promise<AssignmentRun> {
  return apiFetch('/matching/assignments', { method: 'POST', body })
}

export function assignmentFetch(id: string): Promise<AssignmentRun> {
  return apiFetch(`/matching/assignments/${encodeURIComponent(id)}`)
}

export function regionsFetch(params: { k?: number; department?: string; days?: number }): Promise<Regions> {
  const search = new URLSearchParams()
  if (params.k) search.set('k', String(params.k))
  if (params.department) search.set('department', params.department)
  if (params.days) search.set('since', new Date(Date.now() - params.days * 86_400_000).toISOString())
  const query = search.toString()
  return apiFetch(`/matching/regions${query ? `?${query}` : ''}`)
}

/** The map tile source (public; `tile_url` null: draw without tiles). */
export function mapConfigFetch(): Promise<MapConfig> {
  return apiFetch('/matching/map-config', { auth: false })
}
