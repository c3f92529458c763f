// The production worker's entry point (`node dist/worker.js`): see ./worker/main.ts.
import './worker/main.ts';
