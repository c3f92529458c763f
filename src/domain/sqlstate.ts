import { SQLSTATE_CONDITION_NAMES } from './sqlstate-names.ts';

/**
 * A Postgres SQLSTATE: a two-character class and three more characters. Classes start with a
 * digit, or are F0, HV, P0 or XX; Node's own error codes (EPIPE, ECONNRESET) do not qualify.
 */
const SQLSTATE = /^(?:[0-9][0-9A-Z]|F0|HV|P0|XX)[0-9A-Z]{3}$/;

export function isSqlState(code: unknown): boolean {
  return typeof code === 'string' && SQLSTATE.test(code);
}

/** The condition name of a SQLSTATE (`undefined_table` for 42P01), undefined for a code Postgres does not define. */
export function conditionName(sqlState: string): string | undefined {
  return SQLSTATE_CONDITION_NAMES.get(sqlState);
}
