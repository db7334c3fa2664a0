/**
 * `bun run contracts:check`: fails when the catalogue breaks an event version already committed. The baseline is
 * the generated JSON Schemas as committed on `main` (`--base <ref>` or CONTRACTS_BASE for another; HEAD when there
 * is no `main`, as in a detached CI checkout), read with `git show`, so regenerating the working tree cannot hide a
 * break. Each breaking change is printed; adding a version or an optional field passes. `--allow-removed
 * <type>.v<N>.json` accepts retiring that version.
 */
import { join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { type BreakingChange, breakingChangesOfFiles, type JsonSchema } from '../src/breaking.ts'
import { jsonSchemaFiles } from '../src/export.ts'

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    'allow-removed': { type: 'string', multiple: true },
  },
})
const root = (
  await Bun.$`git rev-parse --show-toplevel`
    .cwd(import.meta.dir)
    .quiet()
    .text()
).trim()
const dir = relative(root, join(import.meta.dir, '..', 'generated', 'schemas'))

const git = (...args: string[]) => Bun.$`git ${args}`.cwd(root).quiet().nothrow()
const refExists = async (ref: string) =>
  (await git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`)).exitCode === 0

const requested = values.base ?? process.env.CONTRACTS_BASE
const base = requested ?? ((await refExists('main')) ? 'main' : 'HEAD')
if (!(await refExists(base))) {
  console.error(`contracts:check: no git ref "${base}"`)
  process.exit(2)
}

const listing = await git('ls-tree', '--name-only', `${base}:${dir}`)
const committed: Record<string, JsonSchema> = {}
if (listing.exitCode === 0) {
  for (const file of listing.stdout
    .toString()
    .split('\n')
    .filter((f) => f.endsWith('.json'))) {
    committed[file] = JSON.parse(
      (await git('show', `${base}:${dir}/${file}`)).stdout.toString(),
    ) as JsonSchema
  }
}

const allowed = new Set(values['allow-removed'] ?? [])
const found = breakingChangesOfFiles(committed, jsonSchemaFiles()).filter(
  ({ file, change }) => !(change.kind === 'version-removed' && allowed.has(file)),
)
const label: Record<BreakingChange['kind'], string> = {
  'field-removed': 'FIELD_REMOVED',
  'field-required': 'FIELD_REQUIRED',
  'type-narrowed': 'TYPE_NARROWED',
  'enum-value-removed': 'ENUM_VALUE_REMOVED',
  'constraint-narrowed': 'CONSTRAINT_NARROWED',
  'version-removed': 'VERSION_REMOVED',
}
for (const { file, change } of found)
  console.log(`${dir}/${file}:${change.path} ${label[change.kind]} ${change.message}`)
const versions = Object.keys(committed).length
if (found.length > 0) {
  console.log(
    `\n${found.length} breaking change(s) against ${versions} committed schema(s) on ${base}. ` +
      'Add a new version with an upcaster instead (ARCHITECTURE.md, "Changing an event").',
  )
  process.exit(1)
}
console.log(`no breaking change against ${versions} committed schema(s) on ${base}`)
