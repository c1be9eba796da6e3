/**
 * Opening a SMART app in a new tab (EHR launch). The tab is opened synchronously on the click,
 * before the launch is started, so popup blockers let it through; it is then sent to the app's
 * launch URL, or closed when the launch fails.
 */

/** The part of a browser window this needs (a fake one in tests). */
export interface LaunchTab {
  opener: unknown
  location: { href: string }
  close(): void
}

export type LaunchOutcome = 'opened' | 'blocked' | 'failed'

/** Only absolute http(s) URLs are followed (never `javascript:` or relative ones). */
export function isLaunchUrl(url: string): boolean {
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'https:' || parsed.protocol === 'http:'
  } catch {
    return false
  }
}

export async function launchInNewTab(
  openTab: () => LaunchTab | null,
  start: () => Promise<{ launch_url: string }>,
): Promise<LaunchOutcome> {
  const tab = openTab()
  if (!tab) return 'blocked'
  // The app must not reach back into the chart through window.opener.
  tab.opener = null
  try {
    const { launch_url: url } = await start()
    if (!isLaunchUrl(url)) throw new Error('not a launch URL')
    tab.location.href = url
    return 'opened'
  } catch (error) {
    tab.close()
    if (error instanceof Error && error.message === 'not a launch URL') return 'failed'
    throw error
  }
}

/** Apps sorted by name in the reader's language. */
export function sortedApps<T extends { name: string }>(apps: readonly T[], locale: string): T[] {
  return [...apps].sort((a, b) => a.name.localeCompare(b.name, locale))
}
