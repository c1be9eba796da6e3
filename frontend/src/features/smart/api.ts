/** The SMART EHR launch endpoints of `/api/v1`: launchable apps, and starting a launch. */
import { apiFetch } from '@/shared/api/client'

import type { SmartApp, StartedLaunch } from '@/features/smart/types'

export function launchableApps(): Promise<SmartApp[]> {
  return apiFetch('/smart/apps')
}

export function startLaunch(clientId: string, patientId: string): Promise<StartedLaunch> {
  return apiFetch('/smart/launches', { method: 'POST', body: { client_id: clientId, patient: patientId } })
}
