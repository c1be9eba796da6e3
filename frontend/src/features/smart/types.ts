/** Names for the SMART launch API's schemas (generated types in `src/types/api.d.ts`). */
import type { components } from '@/types/api'

type Schemas = components['schemas']

export type SmartApp = Schemas['AppOut']
export type LaunchRequest = Schemas['LaunchIn']
export type StartedLaunch = Schemas['LaunchOut']
