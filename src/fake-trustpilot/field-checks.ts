/**
 * Field-level checks used by the invitation validator and the invitation-data deletion route.
 * Each check appends to a problem list instead of throwing, so one 400 answer can name
 * every bad field at once. Messages never echo submitted values: clients log error bodies,
 * and a wrongly mapped column could put an email address into any field.
 */
import { isTrustpilotLocale } from '../domain/locales.ts';
import { isPlainObject } from './http-io.ts';

export interface FieldProblem {
  field: string;
  message: string;
}

/** Deliberately simple: one `@`, no spaces, a dotted domain. Mail servers decide the rest. */
const EMAIL_SHAPE = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;
const EMAIL_MAX_LENGTH = 254;

export function isEmailAddress(value: string): boolean {
  return value.length <= EMAIL_MAX_LENGTH && EMAIL_SHAPE.test(value);
}

export function isHttpUrl(value: string): boolean {
  if (!/^https?:\/\//i.test(value)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** JSON null counts as absent for optional fields: lenient servers treat both the same. */
export function isAbsent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

export class ProblemList {
  readonly problems: FieldProblem[] = [];

  /** Returns undefined so checks can `return this.add(...)` in place of a value. */
  add(field: string, message: string): undefined {
    this.problems.push({ field, message });
    return undefined;
  }

  get isEmpty(): boolean {
    return this.problems.length === 0;
  }

  requiredString(source: Record<string, unknown>, key: string, field = key): string | undefined {
    const value = source[key];
    if (isAbsent(value)) return this.add(field, 'is required');
    if (typeof value !== 'string') return this.add(field, 'must be a string');
    if (value.trim() === '') return this.add(field, 'must not be empty');
    return value;
  }

  optionalString(source: Record<string, unknown>, key: string, field = key): string | undefined {
    const value = source[key];
    if (isAbsent(value)) return undefined;
    if (typeof value !== 'string') return this.add(field, 'must be a string');
    return value;
  }

  requiredEmail(source: Record<string, unknown>, key: string, field = key): void {
    const value = this.requiredString(source, key, field);
    if (value !== undefined && !isEmailAddress(value)) this.add(field, 'is not a valid email address');
  }

  optionalEmail(source: Record<string, unknown>, key: string, field = key): void {
    const value = this.optionalString(source, key, field);
    if (value !== undefined && !isEmailAddress(value)) this.add(field, 'is not a valid email address');
  }

  optionalLocale(source: Record<string, unknown>, key: string, field = key): void {
    const value = this.optionalString(source, key, field);
    if (value !== undefined && !isTrustpilotLocale(value)) this.add(field, 'is not a supported locale (expected language-REGION, e.g. en-US)');
  }

  optionalHttpUrl(source: Record<string, unknown>, key: string, field = key): void {
    const value = this.optionalString(source, key, field);
    if (value !== undefined && !isHttpUrl(value)) this.add(field, 'must be an absolute http(s) URL');
  }

  optionalStringArray(source: Record<string, unknown>, key: string, field = key): string[] | undefined {
    const value = source[key];
    if (isAbsent(value)) return undefined;
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return this.add(field, 'must be an array of strings');
    return value;
  }

  optionalObject(source: Record<string, unknown>, key: string, field = key): Record<string, unknown> | undefined {
    const value = source[key];
    if (isAbsent(value)) return undefined;
    if (!isPlainObject(value)) return this.add(field, 'must be an object');
    return value;
  }
}
