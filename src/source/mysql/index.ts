import { PublicError } from '../../domain/public-error.ts';
import type { SegmentSource } from '../types.ts';

/** A MySQL or MariaDB warehouse, read as a least-privilege user. */
export function createMySqlSource(name: string, _url: string, options: { appRole?: string; variable: string }): SegmentSource {
  throw new PublicError(`${options.variable}: warehouse '${name}' is MySQL/MariaDB, which this build cannot read yet`);
}
