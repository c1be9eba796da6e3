/**
 * Full-page navigation (leaving the SPA for the server's OAuth pages) and file downloads. One
 * object so tests can observe where the app sends the browser without performing the navigation.
 */
export const browser = {
  assign(url: string): void {
    window.location.assign(url)
  },
  origin(): string {
    return window.location.origin
  },
  /** Save `text` as a file named `filename` (the browser's download). */
  saveFile(filename: string, text: string, type: string): void {
    const url = URL.createObjectURL(new Blob([text], { type }))
    const link = document.createElement('a')
    link.href = url
    link.download = filename
    document.body.appendChild(link)
    link.click()
    link.remove()
    setTimeout(() => URL.revokeObjectURL(url), 0)
  },
}
