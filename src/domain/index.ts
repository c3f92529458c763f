export * from './config.ts';
export * from './resolve.ts';
export * from './invitation.ts';
export * from './locales.ts';
export * from './limits.ts';
export type * from './invitation-request.ts';
export { isHttpUrl, isValidEmailAddress } from './formats.ts';
export { findReadOnlySqlProblem } from './read-only-sql.ts';
