import { z } from 'zod';
import { secretEnvNameProblem, type SecretRole } from './config-env-names.ts';
import { isDuration, parseDuration } from './duration.ts';
import { isHttpUrl, isValidEmailAddress } from './formats.ts';
import { DISPLAY_NAME_MAX_LENGTH, IDENTIFIER_MAX_LENGTH, SKU_MAX_LENGTH, TEMPLATE_ID_MAX_LENGTH } from './limits.ts';

/** Field-level schemas shared by the destination and activation schemas. */

export const slugSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'must be a slug: lower-case letters, digits and -, starting with a letter or digit, at most 63 characters' });

export const identifierSchema = z
  .string()
  .max(IDENTIFIER_MAX_LENGTH, { error: `must be at most ${IDENTIFIER_MAX_LENGTH} characters` })
  .regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, { error: 'must be a plain SQL identifier: letters, digits, _ or $, not starting with a digit' });

/** Columns may be quoted identifiers in the source (spaces, capitals), so only emptiness and length are checked. */
export const columnNameSchema = z
  .string()
  .max(IDENTIFIER_MAX_LENGTH, { error: `column names are at most ${IDENTIFIER_MAX_LENGTH} characters` })
  .refine((value) => value.trim() !== '', { error: 'column name must not be empty' });

/**
 * The NAME of the environment variable holding one secret: shaped like a name, and not one that
 * holds something else (see config-env-names.ts).
 */
export function secretEnvNameSchema(role: SecretRole) {
  return z.string().superRefine((name, context) => {
    const problem = secretEnvNameProblem(name, role);
    if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
  });
}

export const displayNameSchema = z.string().trim().min(1, { error: 'must not be empty' }).max(DISPLAY_NAME_MAX_LENGTH);

export const templateIdSchema = z.string().trim().min(1, { error: 'must not be empty' }).max(TEMPLATE_ID_MAX_LENGTH);

export const httpUrlSchema = z.string().trim().refine(isHttpUrl, { error: 'must be an http:// or https:// URL' });

export const emailAddressSchema = z.string().trim().refine(isValidEmailAddress, { error: 'must be a valid email address' });

export const skuSchema = z
  .string({
    error: (issue) =>
      typeof issue.input === 'object' && issue.input !== null
        ? 'Full product objects are not supported: provide product SKUs only'
        : 'a SKU must be text',
  })
  .trim()
  .min(1, { error: 'a SKU must not be empty' })
  .max(SKU_MAX_LENGTH, { error: `a SKU is at most ${SKU_MAX_LENGTH} characters` });

/** A duration such as '30s', '5m', '1h', '1d' within plausible bounds. */
export function durationSchema(minimum: { ms: number; text: string }, maximum: { ms: number; text: string }) {
  return z
    .string()
    .refine(isDuration, { error: "must be a duration like '30s', '5m', '2h' or '1d'", abort: true })
    .refine((text) => parseDuration(text) >= minimum.ms, { error: `must be at least ${minimum.text}`, abort: true })
    .refine((text) => parseDuration(text) <= maximum.ms, { error: `must be at most ${maximum.text}` });
}

export const DURATION = {
  zero: { ms: 0, text: '0s' },
  second: { ms: 1_000, text: '1s' },
  tenSeconds: { ms: 10_000, text: '10s' },
  minute: { ms: 60_000, text: '1m' },
  sixHours: { ms: 6 * 3_600_000, text: '6h' },
  week: { ms: 7 * 86_400_000, text: '7d' },
  year: { ms: 366 * 86_400_000, text: '366d' },
} as const;

interface CronField {
  label: string;
  min: number;
  max: number;
  /** names accepted for values, from `min` on, and the shortest prefix of one accepted */
  names?: readonly string[];
  shortestName?: number;
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** The five fields, as Temporal's server reads a cron string (its `parseCronString`): 7 is Sunday too. */
const CRON_FIELDS: readonly CronField[] = [
  { label: 'minute', min: 0, max: 59 },
  { label: 'hour', min: 0, max: 23 },
  { label: 'day of month', min: 1, max: 31 },
  { label: 'month', min: 1, max: 12, names: MONTHS, shortestName: 3 },
  { label: 'day of week', min: 0, max: 7, names: WEEKDAYS, shortestName: 2 },
];

/**
 * What other cron dialects (and cron-parser) accept but a Temporal schedule refuses, or would read
 * differently: each gets a message of its own rather than "not a number".
 */
function unsupportedCronSyntax(part: string): string | undefined {
  if (part.includes('#')) return "'#' (nth weekday of the month) is not supported: Temporal reads '#' as the start of a comment";
  if (part.includes('?')) return "'?' is not supported: use '*'";
  if (/^H(?:$|[(/])/i.test(part)) return "'H' (a hashed value) is not supported: choose a fixed value";
  if (/^(?:\d*L|L-?\d*|LW)$/i.test(part)) return "'L' (last day or weekday) is not supported";
  if (/^\d+W$/i.test(part)) return "'W' (nearest weekday) is not supported";
  return undefined;
}

/** One value as Temporal's `parseValue` reads it: a decimal number, or a month or weekday name (or a prefix of one). */
function cronValue(text: string, field: CronField, min: number): number | undefined {
  if (field.names && text.length >= (field.shortestName ?? 1)) {
    const index = field.names.findIndex((name) => name.startsWith(text.toLowerCase()));
    if (index !== -1) {
      const value = index + (field.min === 0 ? 0 : 1);
      return value >= min && value <= field.max ? value : undefined;
    }
  }
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= field.max ? value : undefined;
}

/** The values one field matches, or why Temporal refuses it. */
function cronFieldValues(text: string, field: CronField): Set<number> | string {
  const values = new Set<number>();
  const range = `a number from ${field.min} to ${field.max}${field.names ? ' or a name' : ''}`;
  for (const whole of text.split(',')) {
    const refused = (why: string) => `${field.label} '${whole}': ${unsupportedCronSyntax(whole) ?? why}`;
    let part = whole;
    let step = 1;
    let stepped = false;
    if (part.includes('/')) {
      const pieces = part.split('/');
      if (pieces.length !== 2 || !/^[+]?\d+$/.test(pieces[1] ?? '') || Number(pieces[1]) < 1) return refused("a step is '/' and a whole number of at least 1");
      part = pieces[0] ?? '';
      step = Number(pieces[1]);
      stepped = true;
    }
    let start = field.min;
    let end = field.max;
    if (part !== '*') {
      if (part.includes('-')) {
        const bounds = part.split('-');
        const first = bounds.length === 2 ? cronValue(bounds[0] ?? '', field, field.min) : undefined;
        const last = first === undefined ? undefined : cronValue(bounds[1] ?? '', field, first);
        if (first === undefined || last === undefined) return refused(`a range is two values (${range}), the first not after the second`);
        start = first;
        end = last;
      } else {
        const value = cronValue(part, field, field.min);
        if (value === undefined) return refused(`not ${range}`);
        start = value;
        end = stepped ? field.max : value;
      }
    }
    for (let value = start; value <= end; value += step) values.add(field.label === 'day of week' && value === 7 ? 0 : value);
  }
  return values;
}

/** Whether some day matches both the day of month and the day of week (and the month), as Temporal requires. */
function cronFiresOnSomeDay(months: ReadonlySet<number>, days: ReadonlySet<number>, weekdays: ReadonlySet<number>): boolean {
  // Weekdays and leap years repeat every 28 years between 1901 and 2099.
  const first = new Date().getUTCFullYear();
  for (let time = Date.UTC(first, 0, 1); time < Date.UTC(first + 28, 0, 1); time += 86_400_000) {
    const day = new Date(time);
    if (months.has(day.getUTCMonth() + 1) && days.has(day.getUTCDate()) && weekdays.has(day.getUTCDay())) return true;
  }
  return false;
}

/**
 * Why a five-field cron expression will not work as a Temporal schedule, or undefined. Checked by
 * the rules Temporal's server applies to a schedule's cron string (activations' schedules are
 * built from it as is, see src/temporal/schedules.ts), so that `validate` refuses what `apply`
 * could not create. Unlike classic cron, Temporal fires only on days matching both the day of
 * month and the day of week.
 */
export function cronProblem(text: string): string | undefined {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 5) {
    const shorthand = /^@\w+$/.test(text.trim()) ? ' (no @ shorthands)' : '';
    return `must be a 5-field cron expression (minute hour day-of-month month day-of-week)${shorthand}, e.g. '*/15 * * * *'`;
  }
  const values: Set<number>[] = [];
  for (const [index, field] of CRON_FIELDS.entries()) {
    const parsed = cronFieldValues(fields[index] ?? '', field);
    if (typeof parsed === 'string') return `is not a valid cron expression for a Temporal schedule: ${parsed}`;
    values.push(parsed);
  }
  const [, , days, months, weekdays] = values;
  if (days && months && weekdays && !cronFiresOnSomeDay(months, days, weekdays)) {
    return 'is not a valid cron expression: it never fires (no day has that day of month and month, and that day of week: a Temporal schedule needs both to match)';
  }
  return undefined;
}

/** Five-field cron (minute hour day-of-month month day-of-week), in UTC, as Temporal schedules read it. */
export const cronSchema = z.string().superRefine((text, context) => {
  const problem = cronProblem(text);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
});
