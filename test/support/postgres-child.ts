// Test support, run as a process of its own: a PostgresBackend answering the calls of postgres-process.ts.
//
// It starts unconnected and prints {"ready":true}; each stdin line is a call {id, target, method, args}
// (target 'open' connects, 'backend' or 'studies' call PostgresBackend or its study backend), answered on stdout
// by {id, value} or {id, error}, in the order they finish (calls run at once, as a server's requests do).
// At the end of stdin it closes the backend and exits.

import { createInterface } from 'node:readline';
import { LablogError } from '../../src/model/errors.js';
import { PostgresBackend } from '../../src/store/postgres/postgres-backend.js';
import { decode, encode } from './json-lines.js';

interface Call {
  id: number;
  target: 'open' | 'backend' | 'studies';
  method: string;
  args: unknown[];
}

let backend: PostgresBackend | undefined;

async function answer(call: Call): Promise<unknown> {
  if (call.target === 'open') {
    backend = await PostgresBackend.open(call.args[0] as string);
    return { location: backend.location };
  }
  if (!backend) throw new Error(`${call.method}: not open`);
  const target = (call.target === 'studies' ? backend.studies() : backend) as unknown as Record<
    string,
    (...args: unknown[]) => Promise<unknown>
  >;
  return target[call.method]!(...call.args);
}

const inFlight = new Set<Promise<void>>();
process.stdout.write(`${encode({ ready: true })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  const call = decode(line) as Call;
  const done = answer(call).then(
    (value) => void process.stdout.write(`${encode({ id: call.id, value: value ?? null })}\n`),
    (error: unknown) => {
      const e = error as Partial<LablogError>;
      const reply = {
        id: call.id,
        error: {
          code: e.code ?? null,
          message: e.message ?? String(error),
          details: e.details ?? {},
          lablog: error instanceof LablogError,
        },
      };
      process.stdout.write(`${encode(reply)}\n`);
    },
  );
  inFlight.add(done);
  void done.finally(() => inFlight.delete(done));
}
await Promise.all(inFlight);
await backend?.close();
