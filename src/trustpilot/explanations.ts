/**
 * What the client tells an operator about a failure: the hint for each kind, and for 403 and 404
 * the possible causes, naming the configured ids (configuration, not personal data) so that they
 * can be compared with what Trustpilot refused.
 */
import type { ClassifyContext } from './types.ts';

export const HINTS = {
  businessUserIdIsUnitId:
    'x-business-user-id must be a business USER id (a user with the Admin or Manager role), not the business UNIT id; check the configured businessUserId.',
  businessUserRefused:
    'Check that the configured business unit id, businessUserId and API key belong to the same Trustpilot business, and that the business user has the Admin or Manager role.',
  forbidden:
    'Check the configured business unit id, the Admin/Manager role of the business user and the Trustpilot plan; the API key must belong to the same business as the business unit.',
  notFound: 'Check apiUrl/invitationsApiUrl (wrong host or path) and the business unit id.',
  unsupportedMediaType: 'Trustpilot refused the Content-Type: this is a bug in the client, not in the data.',
  credentialsRejected:
    'Check apiKey/apiSecret (and username/password for the password grant); the application may have been revoked or disabled.',
  tokenRejected: 'API key/secret or username/password rejected by the token endpoint.',
  rateLimited: 'Trustpilot allows about 833 calls per 5 minutes and 10,000 per hour per application; slow down.',
  serverError: 'Trustpilot-side problem; Trustpilot advises retrying in 5–15 minutes with backoff.',
  mayHaveBeenAccepted:
    'Trustpilot may have accepted the invitation before failing; make sure a retry cannot send a second email (deduplicate first).',
  unexpectedStatus: 'Unexpected HTTP status; check apiUrl/invitationsApiUrl point at Trustpilot (a proxy or redirect may be in the way).',
} as const;

/** Configuration ids named in messages; anything else is described rather than quoted. */
const CONFIG_ID_SHAPE = /^[A-Za-z0-9_.:-]{1,100}$/;

function quotedConfigId(id: string | undefined): string | undefined {
  const trimmed = id?.trim();
  return trimmed !== undefined && CONFIG_ID_SHAPE.test(trimmed) ? `'${trimmed}'` : undefined;
}

function businessUnitLabel(context: ClassifyContext): string {
  const id = quotedConfigId(context.businessUnitId);
  return id === undefined ? 'the business unit' : `business unit ${id}`;
}

function businessUserLabel(context: ClassifyContext): string {
  if (context.businessUserId === undefined) return 'the business user of these credentials';
  const id = quotedConfigId(context.businessUserId);
  return id === undefined ? 'the configured business user' : `business user ${id}`;
}

function isUnitIdUsedAsUserId(context: ClassifyContext): boolean {
  const user = context.businessUserId?.trim();
  return user !== undefined && user !== '' && user === context.businessUnitId?.trim();
}

export interface Explanation {
  message: string;
  hint: string;
}

/**
 * 403 from the invitations host. 1014 is Trustpilot's answer to an x-business-user-id it does
 * not accept for the business unit; the causes are several, and the ids are named so that an
 * operator can compare them with the configuration without guessing which one was used.
 */
export function explainForbidden(subject: string, errorCode: string | undefined, context: ClassifyContext): Explanation {
  const unit = businessUnitLabel(context);
  const code = errorCode === undefined ? '403' : `403, errorCode ${errorCode}`;
  if (errorCode === '1014' && isUnitIdUsedAsUserId(context)) {
    return {
      message: `Trustpilot forbade ${subject} for ${unit} (${code}): the configured business user id is the business UNIT id`,
      hint: HINTS.businessUserIdIsUnitId,
    };
  }
  if (errorCode === '1014') {
    return {
      message:
        `Trustpilot refused ${businessUserLabel(context)} for ${unit} (${code}) on ${subject}. Possible causes: ` +
        'the business unit id is wrong or belongs to another business; ' +
        'the business USER id is not an Admin or Manager user of that business (or is a business UNIT id); ' +
        'the API key belongs to another business',
      hint: HINTS.businessUserRefused,
    };
  }
  return {
    message:
      `Trustpilot forbade ${subject} for ${unit} (${code}). Possible causes: ` +
      'the business unit id is unknown or belongs to another business; ' +
      'the business user lacks Admin or Manager rights; ' +
      'the Trustpilot plan does not include the Invitation API',
    hint: HINTS.forbidden,
  };
}

export function explainNotFound(subject: string, context: ClassifyContext): Explanation {
  return {
    message:
      `Trustpilot endpoint or ${businessUnitLabel(context)} not found (404) for ${subject}. Possible causes: ` +
      'the business unit id is unknown; apiUrl/invitationsApiUrl point at the wrong host or path',
    hint: HINTS.notFound,
  };
}
