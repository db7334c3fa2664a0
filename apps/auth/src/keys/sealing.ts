/** AES-256-GCM sealing with keys derived by HKDF-SHA256: private signing keys at rest, cached refresh results. */

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const FORMAT = 'v1'

/** A symmetric key for one purpose (the HKDF `info`), derived from high-entropy input key material. */
export interface SealingKey {
  seal(plaintext: string, associatedData: string): Promise<string>
  /** Throws when the box was not sealed with this key and associated data, or was tampered with. */
  open(box: string, associatedData: string): Promise<string>
}

const b64 = (bytes: Uint8Array | ArrayBuffer) => Buffer.from(new Uint8Array(bytes)).toString('base64url')
const unb64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64url'))

/**
 * Derives a sealing key. `purpose` separates keys derived from the same secret (HKDF `info`).
 * @example const sealer = await deriveSealingKey(config.keyEncryptionSecret, 'signing-keys')
 */
export const deriveSealingKey = async (secret: string | Uint8Array, purpose: string): Promise<SealingKey> => {
  const material = typeof secret === 'string' ? encoder.encode(secret) : new Uint8Array(secret)
  const base = await crypto.subtle.importKey('raw', material, 'HKDF', false, ['deriveKey'])
  const key = await crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: encoder.encode('flotilla-auth'), info: encoder.encode(purpose) },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  )
  return {
    async seal(plaintext, associatedData) {
      const iv = crypto.getRandomValues(new Uint8Array(12))
      const cipher = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: encoder.encode(associatedData) },
        key,
        encoder.encode(plaintext),
      )
      return `${FORMAT}.${b64(iv)}.${b64(cipher)}`
    },
    async open(box, associatedData) {
      const [format, iv, cipher] = box.split('.')
      if (format !== FORMAT || !iv || !cipher) throw new Error('sealed value has an unknown format')
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: unb64(iv), additionalData: encoder.encode(associatedData) },
        key,
        unb64(cipher),
      )
      return decoder.decode(plain)
    },
  }
}
