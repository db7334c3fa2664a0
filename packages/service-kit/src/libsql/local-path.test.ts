import { describe, expect, it } from 'bun:test'
import { localPathOf } from './local-path.ts'

describe('localPathOf', () => {
  it('reads the path of a plain local file URL, in each form libSQL accepts', () => {
    expect(localPathOf('file:/var/data/audit.db')).toBe('/var/data/audit.db')
    expect(localPathOf('file:///var/data/audit.db')).toBe('/var/data/audit.db')
    expect(localPathOf('file://localhost/var/data/audit.db')).toBe('/var/data/audit.db')
    expect(localPathOf('file:data/audit.db')).toBe('data/audit.db')
    expect(localPathOf('file:.data/analytics%20x.db')).toBe('.data/analytics x.db')
  })

  it('is null for anything a plain driver connection must not open', () => {
    expect(localPathOf('file::memory:')).toBeNull()
    expect(localPathOf('file:/var/data/audit.db?mode=ro')).toBeNull()
    expect(localPathOf('file:/var/data/bad%E0%A4%A.db')).toBeNull()
    expect(localPathOf('libsql://audit.example.com')).toBeNull()
    expect(localPathOf('http://127.0.0.1:8080')).toBeNull()
  })
})
