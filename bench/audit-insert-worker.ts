/**
 * The worker thread of the audit benchmark's overlap ceiling: seals (hashRecord) each batch of record inputs it
 * is sent onto one chain kept in memory and inserts it in one write transaction, then replies with the count.
 */
import { type AuditRecord, GENESIS_HASH, hashRecord, type RecordInput } from '@flotilla/audit'
import Database from 'libsql'
import { AUDIT_COLUMNS, rowOf } from './lib/audit-rows.ts'

declare const self: Worker

export type ToInsertWorker =
  | { readonly type: 'open'; readonly path: string; readonly ddl: string }
  | { readonly type: 'insert'; readonly id: number; readonly inputs: readonly RecordInput[] }
  | { readonly type: 'close' }

const PLACEHOLDERS = `(${AUDIT_COLUMNS.map(() => '?').join(', ')})`
let db: Database.Database | null = null
const inserts = new Map<number, Database.Statement>()
let seq = 0
let prevHash = GENESIS_HASH

const insertOf = (open: Database.Database, count: number) => {
  let insert = inserts.get(count)
  if (!insert) {
    const values = Array.from({ length: count }, () => PLACEHOLDERS).join(', ')
    insert = open.prepare(`INSERT INTO raw_records (${AUDIT_COLUMNS.join(', ')}) VALUES ${values}`)
    inserts.set(count, insert)
  }
  return insert
}

self.onmessage = (event: MessageEvent<ToInsertWorker>) => {
  const message = event.data
  if (message.type !== 'insert') {
    inserts.clear()
    db?.close()
    db = null
    if (message.type === 'open') {
      db = new Database(message.path)
      db.exec(message.ddl)
      seq = 0
      prevHash = GENESIS_HASH
    }
    self.postMessage({ id: -1 })
    return
  }
  const open = db as Database.Database
  const args: unknown[] = []
  for (const input of message.inputs) {
    const record: AuditRecord = { ...input, chain: 'global', seq: ++seq, prevHash, hash: '' }
    record.hash = hashRecord(record)
    prevHash = record.hash
    for (const value of rowOf(record)) args.push(value)
  }
  open.exec('BEGIN IMMEDIATE')
  insertOf(open, message.inputs.length).run(args)
  open.exec('COMMIT')
  self.postMessage({ id: message.id })
}
