// The `eventsource` package is ESM-only and jest runs CommonJS without vm modules, so each
// EventSource lives in a worker thread (plain Node ESM) and reports to the test over messages.
import { parentPort, workerData } from 'node:worker_threads';
import { EventSource } from 'eventsource';

const { url, headers, events } = workerData;
const source = new EventSource(url, {
  fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers } }),
});
const state = () => source.readyState;

source.addEventListener('open', () => parentPort.postMessage({ type: 'open', readyState: state() }));
source.addEventListener('error', (error) =>
  parentPort.postMessage({ type: 'error', code: error.code ?? null, message: error.message ?? null, readyState: state() }),
);
for (const event of events) {
  source.addEventListener(event, (message) =>
    parentPort.postMessage({ type: 'event', event, data: message.data, lastEventId: message.lastEventId, readyState: state() }),
  );
}
parentPort.on('message', (command) => {
  if (command.type === 'close') {
    source.close();
    parentPort.postMessage({ type: 'closed', readyState: state() });
  }
});
