/** Where a libSQL URL names a plain local file: what a service's own `libsql` driver connection may open. */

/**
 * The file path of a plain local `file:` URL; null for anything else (remote, in-memory, or with options, which
 * only @libsql/client understands).
 * @example localPathOf('file:///var/data/audit.db') // '/var/data/audit.db'
 */
export const localPathOf = (url: string): string | null => {
  const match = /^file:(?:\/\/(?:localhost)?(?=\/))?([^?#]+)$/i.exec(url)
  const path = match?.[1]
  if (path === undefined || path === ':memory:') return null
  try {
    return decodeURIComponent(path)
  } catch {
    return null
  }
}
