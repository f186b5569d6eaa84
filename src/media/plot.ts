// Plotly figures: validates a figure object and serialises it to JSON at the call.

import { LablogError, describeValue } from '../model/errors.js';

export interface PlotlyFigure {
  data: object[];
  layout?: object;
  frames?: object[];
  config?: object;
  [field: string]: unknown;
}

function invalid(key: string, why: string, actual?: unknown): LablogError {
  return new LablogError('INVALID_PLOT', `plot '${key}' is not a Plotly figure: ${why}`, { key, actual });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Returns the figure as JSON text, or an INVALID_PLOT / LIMIT_EXCEEDED error. */
export function serializeFigure(key: string, figure: unknown, maxBytes: number): string | LablogError {
  if (!isPlainObject(figure)) return invalid(key, `expected an object { data, layout? }, got ${describeValue(figure)}`);
  if (!Array.isArray(figure.data)) return invalid(key, `'data' must be an array of traces, got ${describeValue(figure.data)}`);
  for (let i = 0; i < figure.data.length; i++) {
    if (!isPlainObject(figure.data[i])) return invalid(key, `data[${i}] must be a trace object, got ${describeValue(figure.data[i])}`);
  }
  if (figure.layout !== undefined && !isPlainObject(figure.layout)) {
    return invalid(key, `'layout' must be an object, got ${describeValue(figure.layout)}`);
  }
  if (figure.frames !== undefined && !Array.isArray(figure.frames)) {
    return invalid(key, `'frames' must be an array, got ${describeValue(figure.frames)}`);
  }
  let unserialisable: string | undefined;
  let json: string;
  try {
    json = JSON.stringify(figure, function (field, value: unknown) {
      if (unserialisable === undefined && (typeof value === 'function' || typeof value === 'symbol')) {
        unserialisable = `field '${field}' is ${describeValue(value)}`;
      }
      return value;
    });
  } catch (cause) {
    return invalid(key, `it is not JSON-serialisable (${(cause as Error).message})`);
  }
  if (unserialisable !== undefined) return invalid(key, `it is not JSON-serialisable: ${unserialisable}`);
  const bytes = Buffer.byteLength(json);
  if (bytes > maxBytes) {
    return new LablogError('LIMIT_EXCEEDED', `plot '${key}' is ${bytes} bytes of JSON; the limit is ${maxBytes} (maxPlotBytes)`, {
      key,
      limit: maxBytes,
      actual: bytes,
    });
  }
  return json;
}
