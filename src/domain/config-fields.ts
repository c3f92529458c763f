import { CronExpressionParser } from 'cron-parser';
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

const CRON_FIELD = /^[0-9A-Za-z*,/-]+$/;

/** Why a five-field cron expression will not work, or undefined; checked by a real cron parser. */
export function cronProblem(text: string): string | undefined {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 5 || !fields.every((field) => CRON_FIELD.test(field))) {
    return "must be a 5-field cron expression (minute hour day-of-month month day-of-week), e.g. '*/15 * * * *'";
  }
  try {
    // An expression that parses but never fires (e.g. February 30th) fails on next().
    CronExpressionParser.parse(text.trim(), { tz: 'UTC' }).next();
    return undefined;
  } catch (error) {
    return `is not a valid cron expression: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** Five-field cron (minute hour day-of-month month day-of-week), in UTC, as Temporal schedules read it. */
export const cronSchema = z.string().superRefine((text, context) => {
  const problem = cronProblem(text);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
});
