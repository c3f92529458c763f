export { activationRun } from './activation-run.ts';
