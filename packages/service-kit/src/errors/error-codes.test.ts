import { describe, expect, it } from 'bun:test'
import { AppError } from './app-error.ts'
import {
  COMMON_ERROR_CODES,
  defineErrorCodes,
  documentedErrorCodes,
  errorDocProblems,
} from './error-codes.ts'

const ERRORS = defineErrorCodes({ ...COMMON_ERROR_CODES, EMAIL_TAKEN: 'this email is already registered' })

describe('defineErrorCodes', () => {
  it('keeps the common codes and the app’s own, frozen', () => {
    expect(ERRORS.codes.EMAIL_TAKEN).toBe('this email is already registered')
    expect(ERRORS.codes.INVALID_CURSOR).toBe(COMMON_ERROR_CODES.INVALID_CURSOR)
    expect(Object.isFrozen(ERRORS.codes)).toBe(true)
    expect([ERRORS.has('EMAIL_TAKEN'), ERRORS.has('NOPE'), ERRORS.has('toString')]).toEqual([
      true,
      false,
      false,
    ])
  })

  it('renders a route’s error list from the map, after its text', () => {
    expect(ERRORS.describe('Creates a user.', 'EMAIL_TAKEN', 'VALIDATION_FAILED')).toBe(
      'Creates a user.\n\nErrors:\n- `EMAIL_TAKEN`: this email is already registered\n' +
        `- \`VALIDATION_FAILED\`: ${COMMON_ERROR_CODES.VALIDATION_FAILED}`,
    )
  })

  it('makes an AppError with a code of the map', () => {
    const error = ERRORS.error(409, 'EMAIL_TAKEN', 'taken', { details: { field: 'email' } })
    expect(error).toBeInstanceOf(AppError)
    expect([error.status, error.code, error.message, error.details]).toEqual([
      409,
      'EMAIL_TAKEN',
      'taken',
      { field: 'email' },
    ])
  })
})

describe('documented error codes', () => {
  const document = {
    paths: {
      '/v1/users': {
        post: { description: ERRORS.describe('Creates a user.', 'EMAIL_TAKEN', 'RATE_LIMITED') },
        get: { description: 'No errors listed.' },
      },
      '/v1/old': {
        get: { description: 'Old.\n\nErrors:\n- `GONE_FOR_GOOD`: hand-written\n- `NOT_FOUND`: x' },
      },
      '/v1/dead-letters': { get: { description: 'the kit’s own, checked by the kit' } },
      '/health': { get: {} },
    },
  }

  it('reads every code listed under Errors: in each route description', () => {
    expect(documentedErrorCodes(document)).toEqual([
      { method: 'post', path: '/v1/users', code: 'EMAIL_TAKEN' },
      { method: 'post', path: '/v1/users', code: 'RATE_LIMITED' },
      { method: 'get', path: '/v1/old', code: 'GONE_FOR_GOOD' },
      { method: 'get', path: '/v1/old', code: 'NOT_FOUND' },
    ])
  })

  it('names the documented codes the map does not declare, and the own routes that list none', () => {
    expect(errorDocProblems(document, ERRORS)).toEqual({
      undeclared: [{ method: 'get', path: '/v1/old', code: 'GONE_FOR_GOOD' }],
      unlisted: ['GET /v1/users'],
    })
    expect(errorDocProblems(document, ERRORS, { except: ['/v1/users'] }).unlisted).toEqual([])
  })
})
