// The typed programmatic API (start runs, follow them, list runs and ledger rows): see ./client/index.ts.
export * from './client/index.ts';
