/**
 * Full-page navigation (leaving the SPA for the server's OAuth pages). One object so tests can
 * observe where the app sends the browser without performing the navigation.
 */
export const browser = {
  assign(url: string): void {
    window.location.assign(url)
  },
  origin(): string {
    return window.location.origin
  },
}
