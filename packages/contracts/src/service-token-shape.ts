/**
 * The shape a service token must have before its signature is worth checking: three segments in strict
 * base64url (the alphabet only, no padding, the one canonical spelling of their bytes), a header and a payload
 * that are UTF-8 JSON objects with no key written twice. jose is lenient on all of these (padding, other
 * alphabets, `JSON.parse`'s last-key-wins), so one token could be spelled several ways, or say one thing to
 * this verifier and another to a parser that keeps the first key.
 */

const BASE64URL = /^[A-Za-z0-9_-]*$/
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * True when `segment` is base64url as RFC 7515 §2 writes it: the URL-safe alphabet, no `=`, and the canonical
 * encoding of its bytes (unused low bits of the last character zero, no impossible length).
 */
export const isStrictBase64url = (segment: string): boolean =>
  BASE64URL.test(segment) && Buffer.from(segment, 'base64url').toString('base64url') === segment

/**
 * True when the JSON text writes some key twice in one object (compared after unescaping, so `"a"` and
 * `"\u0061"` are the same key). `text` must already be valid JSON (`JSON.parse` succeeded).
 */
export const hasDuplicateKeys = (text: string): boolean => {
  // One frame per open object or array; an object frame holds the keys seen and whether a key comes next.
  const stack: { keys: Set<string> | undefined; keyNext: boolean }[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '"') {
      let end = i + 1
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1
      const top = stack.at(-1)
      if (top?.keys && top.keyNext) {
        const key = JSON.parse(text.slice(i, end + 1)) as string
        if (top.keys.has(key)) return true
        top.keys.add(key)
        top.keyNext = false
      }
      i = end
    } else if (c === '{') stack.push({ keys: new Set(), keyNext: true })
    else if (c === '[') stack.push({ keys: undefined, keyNext: false })
    else if (c === '}' || c === ']') stack.pop()
    else if (c === ',') {
      const top = stack.at(-1)
      if (top?.keys) top.keyNext = true
    }
  }
  return false
}

/** Decodes a strict base64url segment holding a JSON object; a problem is a string. */
const jsonObjectOf = (segment: string, name: string): string | undefined => {
  let text: string
  try {
    text = utf8.decode(Buffer.from(segment, 'base64url'))
  } catch {
    return `token ${name} is not UTF-8`
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return `token ${name} is not JSON`
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return `token ${name} is not a JSON object`
  if (hasDuplicateKeys(text)) return `token ${name} repeats a key`
  return undefined
}

/**
 * What is wrong with the compact form of `token`, or undefined when its shape is sound (the signature and the
 * claims are not checked here).
 * @example compactShapeProblem(`${header}.${payload}.${signature}=`) // 'token segment 3 is not strict base64url'
 */
export const compactShapeProblem = (token: string): string | undefined => {
  const segments = token.split('.')
  if (segments.length !== 3) return 'token must have three segments'
  for (const [index, segment] of segments.entries()) {
    if (segment === '' || !isStrictBase64url(segment))
      return `token segment ${index + 1} is not strict base64url`
  }
  return jsonObjectOf(segments[0] as string, 'header') ?? jsonObjectOf(segments[1] as string, 'payload')
}
