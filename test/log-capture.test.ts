// Log capture's line cutting: lines whole in one chunk or split across chunks, CRLF, over-long lines cut and counted, the last line without newline.

import { describe, expect, it } from 'vitest';
import { LogCapture, MAX_LOG_LINE_BYTES } from '../src/core/log-capture.js';
import type { LogLine } from '../src/model/run.js';

function capture(chunks: readonly (string | Buffer)[]): Pick<LogLine, 'stream' | 'text' | 'cutBytes'>[] {
  const written: LogLine[] = [];
  const c = new LogCapture({
    write: (lines) => written.push(...lines),
    echo: false,
    onProblem: (error) => {
      throw error;
    },
  });
  for (const chunk of chunks) c.push('stdout', typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  c.endAttempt();
  return written.map(({ stream, text, cutBytes }) => ({ stream, text, cutBytes }));
}

const line = (text: string, cutBytes = 0) => ({ stream: 'stdout', text, cutBytes });

describe('LogCapture line cutting', () => {
  it('cuts the same lines whatever the chunk boundaries', () => {
    const text = 'epoch 1 loss 0.5\r\nepoch 2 loss 0.25\n\nwith ünïcödé ✓\nno newline at the end';
    const expected = [line('epoch 1 loss 0.5'), line('epoch 2 loss 0.25'), line(''), line('with ünïcödé ✓'), line('no newline at the end')];
    expect(capture([text])).toEqual(expected);
    const bytes = Buffer.from(text);
    // Every split point, including ones inside a multi-byte character and between \r and \n.
    for (let at = 1; at < bytes.length; at++) {
      expect(capture([bytes.subarray(0, at), bytes.subarray(at)])).toEqual(expected);
    }
    expect(capture([...bytes].map((b) => Buffer.from([b])))).toEqual(expected);
  });

  it('keeps MAX_LOG_LINE_BYTES of a longer line and counts the rest, in one chunk or many', () => {
    const long = 'a'.repeat(MAX_LOG_LINE_BYTES) + 'b'.repeat(1000);
    const expected = [line('a'.repeat(MAX_LOG_LINE_BYTES), 1000), line('next')];
    expect(capture([`${long}\nnext\n`])).toEqual(expected);
    expect(capture([long.slice(0, 10), `${long.slice(10)}\nnext\n`])).toEqual(expected);
    expect(capture([long.slice(0, MAX_LOG_LINE_BYTES + 10), `${long.slice(MAX_LOG_LINE_BYTES + 10)}\nnext`])).toEqual(expected);
  });
});
