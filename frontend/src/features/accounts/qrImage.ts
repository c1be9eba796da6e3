/**
 * The TOTP QR code arrives as SVG markup meant for inline use (segno's `svg_inline`, which leaves
 * out the SVG namespace). We never insert server markup into the DOM: it is shown through <img>
 * from a data: URL, where an SVG cannot run script or touch the page. An SVG document loaded as
 * an image needs its namespace, so it is added when missing.
 */
const SVG_NAMESPACE = 'http://www.w3.org/2000/svg'

export function svgImageSource(markup: string): string {
  let svg = markup.trim()
  const rootTag = /^<svg\b[^>]*>/i.exec(svg)?.[0]
  if (rootTag && !/\sxmlns\s*=/.test(rootTag)) {
    svg = `<svg xmlns="${SVG_NAMESPACE}"${svg.slice(4)}`
  }
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`
}
