/** The diagnosis endpoints of `/api/v1`: suggestions, triage and the model registry. */
import { apiFetch, authorizedFetch, errorFromResponse, API_PREFIX } from '@/shared/api/client'

import type {
  Feedback,
  FeedbackRequest,
  ModelVersion,
  Monitoring,
  Suggestions,
  SymptomCatalogue,
  TriageRequest,
  TriageResult,
} from '@/features/diagnosis/types'

export function suggestionsForPatient(patientId: string): Promise<Suggestions> {
  return apiFetch(`/diagnosis/suggestions?patient=${encodeURIComponent(patientId)}`)
}

export function suggestionFeedback(suggestionId: string, body: FeedbackRequest): Promise<Feedback> {
  return apiFetch(`/diagnosis/suggestions/${encodeURIComponent(suggestionId)}/feedback`, { method: 'POST', body })
}

export function symptomCatalogue(): Promise<SymptomCatalogue> {
  return apiFetch('/diagnosis/symptoms')
}

export function triage(body: TriageRequest): Promise<TriageResult> {
  return apiFetch('/diagnosis/triage', { method: 'POST', body })
}

export function modelVersions(): Promise<ModelVersion[]> {
  return apiFetch('/diagnosis/models')
}

export function modelActivate(id: number): Promise<ModelVersion> {
  return apiFetch(`/diagnosis/models/${id}/activate`, { method: 'POST' })
}

export function feedbackMonitoring(): Promise<Monitoring[]> {
  return apiFetch('/diagnosis/monitoring')
}

/**
 * A model's plot as an object URL: the image needs the bearer token, which an <img src> cannot
 * send. The caller revokes the URL when done.
 */
export async function modelPlotUrl(id: number, name: string): Promise<string> {
  const response = await authorizedFetch((token) =>
    fetch(`${API_PREFIX}/diagnosis/models/${id}/plots/${encodeURIComponent(name)}`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      credentials: 'same-origin',
    }),
  )
  if (!response.ok) throw await errorFromResponse(response)
  return URL.createObjectURL(await response.blob())
}
