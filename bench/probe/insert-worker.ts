/** Probe worker: seals (hashes) and inserts each batch it is sent in one write transaction, then replies. */
import { type AuditRecord, GENESIS_HASH, hashRecord, type RecordInput } from '@flotilla/audit'
import Database from 'libsql'
import { AUDIT_COLUMNS, rowOf } from '../lib/audit-rows.ts'

declare const self: Worker
let db: Database.Database | null = null
const inserts = new Map<number, Database.Statement>()
let seq = 0
let prevHash = GENESIS_HASH
const placeholders = `(${AUDIT_COLUMNS.map(() => '?').join(', ')})`

self.onmessage = (event: MessageEvent) => {
  const msg = event.data as { open?: { path: string; ddl: string }; batch?: RecordInput[]; id?: number }
  if (msg.open) {
    db = new Database(msg.open.path)
    db.exec(msg.open.ddl)
    inserts.clear()
    seq = 0
    prevHash = GENESIS_HASH
    self.postMessage({ opened: true })
    return
  }
  const batch = msg.batch as RecordInput[]
  const args: unknown[] = []
  for (const input of batch) {
    const record: AuditRecord = { ...input, chain: 'global', seq: ++seq, prevHash, hash: '' }
    record.hash = hashRecord(record)
    prevHash = record.hash
    for (const v of rowOf(record)) args.push(v)
  }
  let insert = inserts.get(batch.length)
  if (!insert) {
    insert = (db as Database.Database).prepare(
      `INSERT INTO raw_records (${AUDIT_COLUMNS.join(', ')}) VALUES ${Array.from({ length: batch.length }, () => placeholders).join(', ')}`,
    )
    inserts.set(batch.length, insert)
  }
  ;(db as Database.Database).exec('BEGIN IMMEDIATE')
  insert.run(args)
  ;(db as Database.Database).exec('COMMIT')
  self.postMessage({ id: msg.id, count: batch.length })
}
