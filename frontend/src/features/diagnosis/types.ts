/**
 * Names for the diagnosis API's schemas, from the types generated from the OpenAPI document
 * (`src/types/api.d.ts`, never edited by hand).
 */
import type { components } from '@/types/api'

type Schemas = components['schemas']

export type Suggestion = Schemas['SuggestionOut']
export type Suggestions = Schemas['SuggestionsOut']
export type SuggestionRequest = Schemas['SuggestionIn']
export type Feedback = Schemas['SuggestionFeedbackOut']
export type FeedbackRequest = Schemas['SuggestionFeedbackIn']
export type Monitoring = Schemas['FeedbackMonitoringOut']
export type SymptomCatalogue = Schemas['SymptomCatalogueOut']
export type TriageRequest = Schemas['TriageIn']
export type TriageResult = Schemas['TriageOut']
export type ModelVersion = Schemas['ModelVersionOut']
export type Label = Schemas['DiagnosisLabel']
export type Interval = Schemas['MetricInterval']
