// Params: encoding of param values as typed text for the store, and decoding back, losslessly.

import type { ParamRecord, ParamType } from '../model/experiment.js';
import type { ParamValue } from '../model/validation.js';

export function encodeParam(key: string, type: ParamType, value: ParamValue): ParamRecord {
  let text: string;
  if (type === 'date') text = (value as Date).toISOString();
  else if (type === 'number' && Object.is(value, -0)) text = '-0';
  else text = String(value);
  return { key, type, value: text };
}

export function decodeParam(record: ParamRecord): ParamValue {
  switch (record.type) {
    case 'boolean':
      return record.value === 'true';
    case 'number':
      return Number(record.value);
    case 'date':
      return new Date(record.value);
    default:
      return record.value;
  }
}
