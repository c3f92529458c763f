/**
 * In-memory OAuth token store. Access tokens expire after the configured lifetime;
 * refresh tokens are single-use (a refresh answers a new one and retires the old), which
 * is what OAuth servers behind an API gateway usually do and what a careful client must
 * cope with anyway.
 */
import { randomBytes } from 'node:crypto';

export type GrantType = 'client_credentials' | 'password';

export interface AccessGrant {
  apiKey: string;
  grantType: GrantType;
  /** the business user who signed in with the password grant */
  username?: string;
  expiresAtMs: number;
}

export interface IssuedToken {
  accessToken: string;
  refreshToken?: string;
  expiresInSeconds: number;
  issuedAtMs: number;
}

interface RefreshGrant {
  apiKey: string;
  username: string;
}

/** Expired grants are swept only once the map is this big, so the hot path never scans. */
const SWEEP_THRESHOLD = 10_000;

function newSecret(prefix: 'tpa-' | 'tpr-'): string {
  return prefix + randomBytes(24).toString('base64url');
}

export class TokenStore {
  private readonly accessGrants = new Map<string, AccessGrant>();
  private readonly refreshGrants = new Map<string, RefreshGrant>();

  constructor(
    private readonly lifetimeSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  issueClientCredentials(apiKey: string): IssuedToken {
    return this.issueAccess({ apiKey, grantType: 'client_credentials' });
  }

  issueForUser(apiKey: string, username: string): IssuedToken {
    const refreshToken = newSecret('tpr-');
    this.refreshGrants.set(refreshToken, { apiKey, username });
    return { ...this.issueAccess({ apiKey, grantType: 'password', username }), refreshToken };
  }

  /** The user a refresh token was issued to, or null when unknown or issued to another application. */
  refreshTokenOwner(apiKey: string, refreshToken: string): string | null {
    const grant = this.refreshGrants.get(refreshToken);
    return grant === undefined || grant.apiKey !== apiKey ? null : grant.username;
  }

  /** Retires `refreshToken` and issues a fresh access + refresh pair for the same user. */
  rotateRefreshToken(apiKey: string, refreshToken: string, username: string): IssuedToken {
    this.refreshGrants.delete(refreshToken);
    return this.issueForUser(apiKey, username);
  }

  /** The live grant behind an access token, or null when unknown or expired. */
  lookup(accessToken: string): AccessGrant | null {
    const grant = this.accessGrants.get(accessToken);
    if (grant === undefined) return null;
    if (grant.expiresAtMs <= this.now()) {
      this.accessGrants.delete(accessToken);
      return null;
    }
    return grant;
  }

  private issueAccess(grant: Omit<AccessGrant, 'expiresAtMs'>): IssuedToken {
    if (this.accessGrants.size >= SWEEP_THRESHOLD) this.sweepExpired();
    const issuedAtMs = this.now();
    const accessToken = newSecret('tpa-');
    this.accessGrants.set(accessToken, { ...grant, expiresAtMs: issuedAtMs + this.lifetimeSeconds * 1000 });
    return { accessToken, expiresInSeconds: this.lifetimeSeconds, issuedAtMs };
  }

  private sweepExpired(): void {
    const now = this.now();
    for (const [token, grant] of this.accessGrants) if (grant.expiresAtMs <= now) this.accessGrants.delete(token);
  }
}
