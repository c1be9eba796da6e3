/**
 * Messages that features contribute: each `src/features/<name>/messages.ts` default-exports
 * `{ 'zh-CN': {...}, en: {...} }` under one top-level key of its own (e.g. `doctors`), so features
 * add their texts without editing the app's shared message files.
 */

export type MessageTree = { [key: string]: string | MessageTree }

export interface FeatureMessages {
  'zh-CN': MessageTree
  en: MessageTree
}

const modules = import.meta.glob<{ default: FeatureMessages }>('/src/features/*/messages.ts', { eager: true })

/** Every feature's messages, keyed by the file that declares them. */
export const FEATURE_MESSAGES: Readonly<Record<string, FeatureMessages>> = Object.fromEntries(
  Object.entries(modules).map(([path, module]) => [path, module.default]),
)

/** The base messages of one locale with every feature's namespaces added. */
export function withFeatureMessages<T extends object>(base: T, locale: keyof FeatureMessages): T {
  const merged: Record<string, unknown> = { ...(base as Record<string, unknown>) }
  for (const feature of Object.values(FEATURE_MESSAGES)) Object.assign(merged, feature[locale])
  return merged as T
}
