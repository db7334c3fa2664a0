import { describe, expect, it } from 'bun:test'
import { toPostgresSql } from './postgres-client.ts'

describe('SQLite-flavoured SQL as PostgreSQL runs it', () => {
  it('numbers placeholders in order, keeps numbered ones, and leaves quoted text and identifiers alone', () => {
    expect(toPostgresSql(`SELECT "a?" FROM t WHERE x = ? AND y = 'it''s ?' AND z = ?`, 0)).toBe(
      `SELECT "a?" FROM t WHERE x = $1 AND y = 'it''s ?' AND z = $2`,
    )
    expect(toPostgresSql('INSERT INTO t VALUES (?1, ?2, ?1)', 0)).toBe('INSERT INTO t VALUES ($1, $2, $1)')
  })

  it('writes json_object as json_build_object and changes() as the rows the statement before changed', () => {
    expect(toPostgresSql("SELECT json_object('id', id) AS row FROM d WHERE changes() = 1", 1)).toBe(
      "SELECT json_build_object('id', id) AS row FROM d WHERE 1 = 1",
    )
  })
})
