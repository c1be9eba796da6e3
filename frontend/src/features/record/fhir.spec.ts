import { beforeEach, describe, expect, it } from 'vitest'

import {
  chartObservations,
  consentedPatients,
  everythingBundle,
  fhirGet,
  searchAll,
  timelineResources,
  type Bundle,
  type Patient,
} from '@/features/record/fhir'
import { ApiError } from '@/shared/api/client'
import { makeApp, makeMe } from '@/test/app'
import { fakeNetwork, type FakeNetwork } from '@/test/fetchMock'

const PATIENT_ID = '5b0c3d3e-0000-4000-8000-000000000001'
const BASE = 'http://localhost:3000/fhir/R4'

let network: FakeNetwork

beforeEach(() => {
  network = fakeNetwork()
  makeApp({ me: makeMe() })
})

function bundle(entries: object[], next?: string): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    link: next ? [{ relation: 'self', url: `${BASE}/x` }, { relation: 'next', url: next }] : [{ relation: 'self', url: `${BASE}/x` }],
    entry: entries,
  }
}

const patient: Patient = { resourceType: 'Patient', id: PATIENT_ID, name: [{ text: '李明' }], gender: 'male', birthDate: '1985-03-12' }

describe('fhirGet', () => {
  it('sends the bearer token and asks for FHIR JSON', async () => {
    network.on(`GET /fhir/R4/Patient/${PATIENT_ID}`, { status: 200, body: patient })

    await expect(fhirGet<Patient>(`Patient/${PATIENT_ID}`)).resolves.toEqual(patient)
    const [request] = network.requests
    expect(request!.url).toBe(`/fhir/R4/Patient/${PATIENT_ID}`)
    expect(request!.headers.authorization).toBe('Bearer access-1')
    expect(request!.headers.accept).toBe('application/fhir+json')
  })

  it('refreshes the token once after a 401 and retries', async () => {
    network
      .on(`GET /fhir/R4/Patient/${PATIENT_ID}`, { status: 401, body: { resourceType: 'OperationOutcome', issue: [{ code: 'login' }] } })
      .on(`GET /fhir/R4/Patient/${PATIENT_ID}`, { status: 200, body: patient })
      .on('POST /o/token/', { status: 200, body: { access_token: 'access-2', refresh_token: 'refresh-2', token_type: 'Bearer', expires_in: 3600 } })

    await expect(fhirGet(`Patient/${PATIENT_ID}`)).resolves.toEqual(patient)
    expect(network.to(`GET /fhir/R4/Patient/${PATIENT_ID}`).map((r) => r.headers.authorization)).toEqual([
      'Bearer access-1',
      'Bearer access-2',
    ])
  })

  it('turns an OperationOutcome into an ApiError with its status, code and text', async () => {
    network.on(`GET /fhir/R4/Patient/${PATIENT_ID}`, {
      status: 403,
      body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'forbidden', diagnostics: "You may not access this patient's record." }] },
    })

    const error = (await fhirGet(`Patient/${PATIENT_ID}`).catch((e: unknown) => e)) as ApiError
    expect(error).toBeInstanceOf(ApiError)
    expect([error.status, error.code, error.message]).toEqual([403, 'forbidden', "You may not access this patient's record."])
  })

  it('names an error without an OperationOutcome by its HTTP status', async () => {
    // The fake network answers unknown routes with 404 and the /api/v1 error shape.
    const error = (await fhirGet('metadata').catch((e: unknown) => e)) as ApiError
    expect([error.status, error.code]).toEqual([404, 'http_404'])
  })
})

describe('searches', () => {
  it('follows next links (made same-origin) and keeps only matches', async () => {
    const obs = (id: string) => ({ fullUrl: `${BASE}/Observation/${id}`, resource: { resourceType: 'Observation', id }, search: { mode: 'match' } })
    network
      .on('GET /fhir/R4/Observation', { status: 200, body: bundle([obs('a'), obs('b')], `${BASE}/Observation?patient=p&_cursor=c2`) })
      .on('GET /fhir/R4/Observation', {
        status: 200,
        body: bundle([obs('c'), { resource: { resourceType: 'OperationOutcome' }, search: { mode: 'outcome' } }]),
      })

    const found = await searchAll('Observation', { patient: 'p' })
    expect(found.map((r) => r.id)).toEqual(['a', 'b', 'c'])
    expect(network.requests.map((r) => r.url)).toEqual(['/fhir/R4/Observation?patient=p', '/fhir/R4/Observation?patient=p&_cursor=c2'])
  })

  it('asks for the charted codes of one patient, newest first', async () => {
    network.on('GET /fhir/R4/Observation', { status: 200, body: bundle([]) })

    await chartObservations(PATIENT_ID, ['8867-4', '4548-4'])
    const url = new URL(network.requests[0]!.url, 'http://localhost')
    expect(Object.fromEntries(url.searchParams)).toEqual({
      patient: `Patient/${PATIENT_ID}`,
      code: 'http://loinc.org|8867-4,http://loinc.org|4548-4',
      _sort: '-date',
      _count: '500',
    })
  })

  it('reads the timeline types through $everything, without the Patient', async () => {
    network.on(`GET /fhir/R4/Patient/${PATIENT_ID}/$everything`, {
      status: 200,
      body: bundle([{ resource: patient }, { resource: { resourceType: 'Encounter', id: 'e1' } }]),
    })

    const resources = await timelineResources(PATIENT_ID)
    expect(resources).toEqual([{ resourceType: 'Encounter', id: 'e1' }])
    const url = new URL(network.requests[0]!.url, 'http://localhost')
    expect(url.searchParams.get('_type')).toBe(
      'Encounter,Condition,MedicationRequest,AllergyIntolerance,Immunization,DiagnosticReport,DocumentReference,Procedure',
    )
  })

  it('joins every page of $everything into one collection Bundle', async () => {
    const path = `/fhir/R4/Patient/${PATIENT_ID}/$everything`
    network
      .on(`GET ${path}`, { status: 200, body: bundle([{ fullUrl: `${BASE}/Patient/${PATIENT_ID}`, resource: patient }], `${BASE}/Patient/${PATIENT_ID}/$everything?_count=500&_cursor=n`) })
      .on(`GET ${path}`, { status: 200, body: bundle([{ fullUrl: `${BASE}/Condition/c1`, resource: { resourceType: 'Condition', id: 'c1' } }]) })

    const result = await everythingBundle(PATIENT_ID)
    expect(result.resourceType).toBe('Bundle')
    expect(result.type).toBe('collection')
    expect(result.total).toBe(2)
    expect(result.entry).toEqual([
      { fullUrl: `${BASE}/Patient/${PATIENT_ID}`, resource: patient },
      { fullUrl: `${BASE}/Condition/c1`, resource: { resourceType: 'Condition', id: 'c1' } },
    ])
    expect(network.requests).toHaveLength(2)
  })
})

describe('consentedPatients', () => {
  it('lists the patients of active Consents, from the includes or read by id', async () => {
    const consent = (id: string, patientId: string) => ({
      resource: { resourceType: 'Consent', id, status: 'active', patient: { reference: `Patient/${patientId}` }, dateTime: '2026-10-28' },
      search: { mode: 'match' },
    })
    const other: Patient = { resourceType: 'Patient', id: 'p2', name: [{ family: '王', given: ['芳'] }] }
    network
      .on('GET /fhir/R4/Consent', {
        status: 200,
        body: bundle([consent('c1', PATIENT_ID), consent('c2', 'p2'), consent('c3', PATIENT_ID), { resource: patient, search: { mode: 'include' } }]),
      })
      .on('GET /fhir/R4/Patient/p2', { status: 200, body: other })

    const found = await consentedPatients('doc-1')
    expect(found).toEqual([
      { patient, since: '2026-10-28' },
      { patient: other, since: '2026-10-28' },
    ])
    const url = new URL(network.requests[0]!.url, 'http://localhost')
    expect(Object.fromEntries(url.searchParams)).toEqual({
      actor: 'Practitioner/doc-1',
      status: 'active',
      _include: 'Consent:patient',
      _count: '500',
    })
  })
})
