import { describe, expect, it } from 'vitest'

import { svgImageSource } from '@/features/accounts/qrImage'

function decoded(source: string): string {
  const prefix = 'data:image/svg+xml;charset=utf-8,'
  expect(source.startsWith(prefix)).toBe(true)
  return decodeURIComponent(source.slice(prefix.length))
}

describe('QR code image source', () => {
  it('adds the SVG namespace that inline markup leaves out', () => {
    expect(decoded(svgImageSource('<svg width="148" height="148" class="segno"><path d="M4 4.5h7"/></svg>'))).toBe(
      '<svg xmlns="http://www.w3.org/2000/svg" width="148" height="148" class="segno"><path d="M4 4.5h7"/></svg>',
    )
  })

  it('keeps markup that already declares the namespace', () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"></svg>'
    expect(decoded(svgImageSource(`  ${svg}\n`))).toBe(svg)
  })

  it('percent-encodes everything, so the markup cannot break out of the attribute', () => {
    const source = svgImageSource('<svg xmlns="http://www.w3.org/2000/svg"><title>"><script>x</script></title></svg>')
    expect(source).not.toMatch(/[<>"]/)
  })
})
