import { PublicError } from '../domain/index.ts';

/** A failure's reason, with any password in a URL it quotes left out. */
export function describeFailure(error: unknown): string {
  const text =
    error instanceof PublicError
      ? error.message
      : error instanceof Error
        ? `${error.name}: ${error.message || 'no message'}`
        : typeof error === 'string' && error !== ''
          ? error
          : 'it gave no reason';
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi, '$1:***@');
}

/** A step of the start that failed: what dev mode was doing, and why that failed. */
export class StartError extends PublicError {
  override readonly name = 'StartError';
}

export async function step<T>(doing: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof StartError) throw error;
    throw new StartError(`Dev mode could not start: ${doing} failed: ${describeFailure(error)}`, { cause: error });
  }
}

/** A signal arrived while dev mode was starting: stop what has started, and say so. */
export class StopRequested extends Error {}
