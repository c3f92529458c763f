/**
 * An error whose message is built from configuration, ids, counts and codes only, never from a
 * value read from a segment: it may be shown in a log, a CLI, a failure or Temporal history.
 * Any other error's message is treated as possibly quoting data and is not shown.
 */
export class PublicError extends Error {}
