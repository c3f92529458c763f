/**
 * A Postgres SQLSTATE: a two-character class and three more characters. Classes start with a
 * digit, or are F0, HV, P0 or XX; Node's own error codes (EPIPE, ECONNRESET) do not qualify.
 */
const SQLSTATE = /^(?:[0-9][0-9A-Z]|F0|HV|P0|XX)[0-9A-Z]{3}$/;

export function isSqlState(code: unknown): boolean {
  return typeof code === 'string' && SQLSTATE.test(code);
}
