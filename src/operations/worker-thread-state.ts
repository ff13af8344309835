/**
 * Whether the worker thread of `npm start` still runs, for the API's readiness report. Set by
 * main.ts; an app that hosts its worker on its own event loop (tests) never marks it exited.
 */
export const workerThread = { exited: false };
