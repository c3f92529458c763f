/**
 * Length and count limits applied before anything reaches Trustpilot.
 *
 * Trustpilot does not publish field limits. These values are deliberately generous for
 * real data yet small enough to catch a wrong column mapping (a JSON blob or a whole
 * address in a name field) as a row-level rejection instead of an opaque 400.
 */

/** RFC 5321 path limit: the longest address any mail server will accept. */
export const EMAIL_MAX_LENGTH = 254;
/** RFC 5321 limit for the part before the `@`. */
export const EMAIL_LOCAL_PART_MAX_LENGTH = 64;
export const CONSUMER_NAME_MAX_LENGTH = 255;
/** Sender names show in the recipient's inbox next to the subject; longer ones are truncated by clients anyway. */
export const SENDER_NAME_MAX_LENGTH = 100;
export const REFERENCE_NUMBER_MAX_LENGTH = 255;
export const LOCATION_ID_MAX_LENGTH = 255;
export const TAG_MAX_LENGTH = 50;
export const TAGS_MAX_COUNT = 50;
export const SKU_MAX_LENGTH = 255;
/** Upper bound both for a fixed SKU list and for the SKUs of one row. */
export const SKUS_MAX_COUNT = 100;
export const TEMPLATE_ID_MAX_LENGTH = 100;
export const URL_MAX_LENGTH = 2048;
export const BUSINESS_UNIT_ID_MAX_LENGTH = 100;
/** Postgres truncates identifiers to 63 bytes (NAMEDATALEN - 1). */
export const IDENTIFIER_MAX_LENGTH = 63;
export const DISPLAY_NAME_MAX_LENGTH = 200;
export const SQL_MAX_LENGTH = 100_000;
