import { PublicError } from '../../domain/public-error.ts';
import type { SegmentSource } from '../types.ts';

/** A warehouse of CSV and Parquet files, read through DuckDB. */
export function createFilesSource(name: string, _url: string, options: { env: NodeJS.ProcessEnv; variable: string }): SegmentSource {
  throw new PublicError(`${options.variable}: warehouse '${name}' reads files, which this build cannot read yet`);
}
