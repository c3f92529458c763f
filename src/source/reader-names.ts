import { createHash } from 'node:crypto';

/** The names the product gives the roles (or users) segments are read as; every engine uses them. */

export const DEFAULT_READER_ROLE = 'trustpilot_segment_reader';
/** With one role per activation, each role's name is this, `_`, and the activation's id. */
export const PER_ACTIVATION_ROLE_PREFIX = 'trustpilot_reader';

export const ROLE_NAME_MAX_BYTES = 63;

/** Cuts text to at most `bytes` UTF-8 bytes without splitting a character. */
export function cutToBytes(text: string, bytes: number): string {
  let cut = '';
  for (const character of text) {
    if (Buffer.byteLength(cut + character) > bytes) break;
    cut += character;
  }
  return cut;
}

/**
 * The role of one activation: `<prefix>_<id>` with the id's dashes as underscores. A name Postgres
 * would truncate (63 bytes) is cut and ends with a hash of the id, so two activations never share one.
 */
export function activationRoleName(activationId: string, prefix: string = PER_ACTIVATION_ROLE_PREFIX): string {
  const name = `${prefix}_${activationId.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
  if (Buffer.byteLength(name) <= ROLE_NAME_MAX_BYTES) return name;
  const hash = createHash('sha256').update(activationId).digest('hex').slice(0, 8);
  return `${cutToBytes(name, ROLE_NAME_MAX_BYTES - hash.length - 1)}_${hash}`;
}
