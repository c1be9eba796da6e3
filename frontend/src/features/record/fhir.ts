/**
 * A small typed client of the FHIR R4 REST API (`/fhir/R4`): the auth store's bearer token with the
 * same one-refresh-and-retry on 401 as the JSON API, OperationOutcome errors turned into `ApiError`
 * (so `describeError` shows them), and search Bundles followed through their `next` links.
 */
import { ApiError, authorizedFetch } from '@/shared/api/client'

export const FHIR_BASE = '/fhir/R4'
/** Enough for years of daily readings; the server caps `_count` at its own page size. */
const PAGE_SIZE = 500
/** A guard against a server whose `next` links never end. */
const MAX_PAGES = 50

export interface Coding {
  system?: string
  code?: string
  display?: string
}

export interface CodeableConcept {
  coding?: Coding[]
  text?: string
}

export interface Reference {
  reference?: string
  display?: string
}

export interface Period {
  start?: string
  end?: string
}

export interface Quantity {
  value?: number
  unit?: string
  code?: string
}

/** The elements the app reads; resources keep every other element as they came. */
export interface FhirResource {
  resourceType: string
  id?: string
  meta?: { versionId?: string; lastUpdated?: string }
  [element: string]: unknown
}

export interface HumanName {
  text?: string
  family?: string
  given?: string[]
}

export interface Patient extends FhirResource {
  resourceType: 'Patient'
  name?: HumanName[]
  gender?: string
  birthDate?: string
}

export interface Observation extends FhirResource {
  resourceType: 'Observation'
  code?: CodeableConcept
  effectiveDateTime?: string
  effectivePeriod?: Period
  valueQuantity?: Quantity
  component?: { code?: CodeableConcept; valueQuantity?: Quantity }[]
}

export interface Consent extends FhirResource {
  resourceType: 'Consent'
  status?: string
  patient?: Reference
  dateTime?: string
}

export interface BundleLink {
  relation: string
  url: string
}

export interface BundleEntry<T extends FhirResource = FhirResource> {
  fullUrl?: string
  resource?: T
  search?: { mode?: 'match' | 'include' | 'outcome' }
}

export interface Bundle<T extends FhirResource = FhirResource> extends FhirResource {
  resourceType: 'Bundle'
  type?: string
  total?: number
  link?: BundleLink[]
  entry?: BundleEntry<T>[]
}

interface OperationOutcome {
  resourceType?: string
  issue?: { code?: string; diagnostics?: string; details?: { text?: string } }[]
}

/** An OperationOutcome (or anything else) → ApiError with the issue code and its text. */
async function fhirError(response: Response): Promise<ApiError> {
  let outcome: OperationOutcome | null = null
  try {
    outcome = (await response.json()) as OperationOutcome
  } catch {
    outcome = null
  }
  const issue = outcome?.resourceType === 'OperationOutcome' ? outcome.issue?.[0] : undefined
  const code = issue?.code ?? `http_${response.status}`
  const message = issue?.diagnostics ?? issue?.details?.text ?? (response.statusText || `HTTP ${response.status}`)
  return new ApiError(response.status, code, message)
}

/** A path under the FHIR base, or a link the server sent (made same-origin-relative). */
function requestUrl(pathOrUrl: string): string {
  if (/^https?:\/\//.test(pathOrUrl)) {
    const url = new URL(pathOrUrl)
    return `${url.pathname}${url.search}`
  }
  return `${FHIR_BASE}/${pathOrUrl.replace(/^\//, '')}`
}

export async function fhirGet<T>(pathOrUrl: string): Promise<T> {
  const url = requestUrl(pathOrUrl)
  const response = await authorizedFetch(async (token) => {
    const headers: Record<string, string> = {
      Accept: 'application/fhir+json',
      'Accept-Language': document.documentElement.lang || 'zh-CN',
    }
    if (token) headers.Authorization = `Bearer ${token}`
    try {
      return await fetch(url, { method: 'GET', headers, credentials: 'same-origin' })
    } catch {
      throw new ApiError(0, 'network_error', 'network_error')
    }
  })
  if (!response.ok) throw await fhirError(response)
  return (await response.json()) as T
}

export function searchPath(resourceType: string, params: Record<string, string>): string {
  return `${resourceType}?${new URLSearchParams(params).toString()}`
}

/** Every page of a search (or `$everything`), following `next` links; entries in server order. */
export async function fetchAllPages<T extends FhirResource = FhirResource>(pathOrUrl: string): Promise<BundleEntry<T>[]> {
  const entries: BundleEntry<T>[] = []
  let next: string | undefined = pathOrUrl
  for (let page = 0; next !== undefined && page < MAX_PAGES; page += 1) {
    const bundle: Bundle<T> = await fhirGet<Bundle<T>>(next)
    entries.push(...(bundle.entry ?? []))
    next = bundle.link?.find((link) => link.relation === 'next')?.url
  }
  return entries
}

/** The matching resources of a search (not `_include`d ones nor outcome entries). */
export async function searchAll<T extends FhirResource>(resourceType: string, params: Record<string, string>): Promise<T[]> {
  const entries = await fetchAllPages<T>(searchPath(resourceType, params))
  return entries
    .filter((entry) => (entry.search?.mode ?? 'match') === 'match')
    .flatMap((entry) => (entry.resource ? [entry.resource] : []))
}

/** Timeline kinds, as FHIR types. */
export const TIMELINE_TYPES = [
  'Encounter',
  'Condition',
  'MedicationRequest',
  'AllergyIntolerance',
  'Immunization',
  'DiagnosticReport',
  'DocumentReference',
  'Procedure',
] as const

/** The timeline's resources of one patient (`$everything` restricted to those types). */
export async function timelineResources(patientId: string): Promise<FhirResource[]> {
  const params = new URLSearchParams({ _type: TIMELINE_TYPES.join(','), _count: String(PAGE_SIZE) })
  const entries = await fetchAllPages(`Patient/${encodeURIComponent(patientId)}/$everything?${params.toString()}`)
  return entries.flatMap((entry) =>
    entry.resource && entry.resource.resourceType !== 'Patient' ? [entry.resource] : [],
  )
}

/** Observations of the charted codes, newest first. */
export function chartObservations(patientId: string, loincCodes: readonly string[]): Promise<Observation[]> {
  return searchAll<Observation>('Observation', {
    patient: `Patient/${patientId}`,
    code: loincCodes.map((code) => `http://loinc.org|${code}`).join(','),
    _sort: '-date',
    _count: String(PAGE_SIZE),
  })
}

/** The whole record as one Bundle (every page of `$everything` joined), as the patient downloads it. */
export async function everythingBundle(patientId: string): Promise<Bundle> {
  const entries = await fetchAllPages(`Patient/${encodeURIComponent(patientId)}/$everything?_count=${PAGE_SIZE}`)
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: new Date().toISOString(),
    total: entries.length,
    entry: entries.map((entry) => ({ fullUrl: entry.fullUrl, resource: entry.resource })),
  }
}

export interface ConsentedPatient {
  patient: Patient
  /** When the patient consented (Consent.dateTime). */
  since: string | undefined
}

/**
 * The patients whose active Consent names this practitioner, with the Patients `_include`d
 * (one request per page; a Patient missing from the includes is read by id).
 */
export async function consentedPatients(practitionerId: string): Promise<ConsentedPatient[]> {
  const entries = await fetchAllPages(
    searchPath('Consent', {
      actor: `Practitioner/${practitionerId}`,
      status: 'active',
      _include: 'Consent:patient',
      _count: String(PAGE_SIZE),
    }),
  )
  const patients = new Map<string, Patient>()
  for (const entry of entries) {
    if (entry.resource?.resourceType === 'Patient' && entry.resource.id) patients.set(entry.resource.id, entry.resource as Patient)
  }
  const result = new Map<string, ConsentedPatient>()
  for (const entry of entries) {
    const consent = entry.resource
    if (consent?.resourceType !== 'Consent') continue
    const id = (consent as Consent).patient?.reference?.replace(/^Patient\//, '')
    if (!id || result.has(id)) continue
    const patient = patients.get(id) ?? (await fhirGet<Patient>(`Patient/${encodeURIComponent(id)}`))
    result.set(id, { patient, since: (consent as Consent).dateTime })
  }
  return [...result.values()]
}

export function patientName(patient: Patient | null | undefined): string {
  const name = patient?.name?.[0]
  if (!name) return patient?.id ?? ''
  return name.text ?? [name.family, ...(name.given ?? [])].filter(Boolean).join('')
}
