// The experiments table's condition filter (src/ui/app/filter.ts): parsing `NAME OP VALUE` conditions and testing rows.

import { describe, expect, it } from 'vitest';
import { FilterError, matches, parseFilter, type Filter } from '../src/ui/app/filter.js';
import type { ExperimentRow, MetricSummary } from '../src/ui/ui-api.js';

function metric(last: number | null, min: number | null = last, max: number | null = last): MetricSummary {
  return { count: 10, lastStep: 9, last, min, max };
}

function row(overrides: Partial<ExperimentRow> = {}): ExperimentRow {
  return {
    id: 'id-1',
    project: 'p',
    name: 'baseline-Run',
    description: null,
    status: 'completed',
    tags: ['base', 'gpu'],
    createdAt: 0,
    endedAt: 1000,
    heartbeatAt: null,
    durationMs: 1000,
    hostname: null,
    studyId: null,
    params: {},
    metrics: {},
    media: {},
    progress: null,
    ...overrides,
  };
}

const KEYS = {
  params: ['lr', 'epochs', 'optimizer', 'amp', 'model.name', 'warm-up', 'batch_size', 'opt/beta', 'loss', 'note'],
  metrics: ['loss', 'val/acc', 'train.loss', 'grad-norm', 'lr_scale', 'nan_metric'],
};

const ROW = row({
  params: {
    lr: 0.001,
    epochs: 10,
    optimizer: 'adam',
    amp: true,
    'model.name': 'resnet',
    'warm-up': 5,
    batch_size: 64,
    'opt/beta': 0.9,
    loss: 'ce', // a param shadowing the metric `loss`
    note: `it's, "fine" and good`,
  },
  metrics: {
    loss: metric(0.3, 0.1, 2.5),
    'val/acc': metric(0.92, 0.4, 0.95),
    'train.loss': metric(0.25, 0.2, 3),
    'grad-norm': metric(1.5, 0.5, 9),
    lr_scale: metric(1),
    nan_metric: metric(null, 0.1, 0.7),
  },
});

/** Whether `text` (parsed with KEYS) matches `r`. */
function hit(text: string, r: ExperimentRow = ROW): boolean {
  return matches(parseFilter(text, KEYS), r);
}

/** The FilterError that parsing `text` throws. */
function parseError(text: string): FilterError {
  try {
    parseFilter(text, KEYS);
  } catch (error) {
    expect(error).toBeInstanceOf(FilterError);
    return error as FilterError;
  }
  throw new Error(`parseFilter(${JSON.stringify(text)}) did not throw`);
}

describe('parseFilter', () => {
  it('parses a condition into field, operator and value', () => {
    expect(parseFilter('lr < 0.01', KEYS)).toEqual<Filter>({ conditions: [{ field: { kind: 'param', key: 'lr' }, op: '<', value: 0.01 }] });
    expect(parseFilter('max(val/acc) >= 0.9', KEYS).conditions).toEqual([
      { field: { kind: 'metric', key: 'val/acc', stat: 'max' }, op: '>=', value: 0.9 },
    ]);
    expect(parseFilter('val/acc > 0.9', KEYS).conditions[0]!.field).toEqual({ kind: 'metric', key: 'val/acc', stat: 'last' });
    expect(parseFilter('tag = x', KEYS).conditions[0]!.field).toEqual({ kind: 'tag' });
    expect(parseFilter('tags = x', KEYS).conditions[0]!.field).toEqual({ kind: 'tag' });
    expect(parseFilter('Status = running', KEYS).conditions[0]!.field).toEqual({ kind: 'status' });
    expect(parseFilter('name ~ foo', KEYS).conditions[0]!.field).toEqual({ kind: 'name' });
  });

  it('reads every operator, with == as =', () => {
    for (const op of ['<', '<=', '>', '>=', '=', '!=', '~'] as const) {
      expect(parseFilter(`lr ${op} 1`, KEYS).conditions[0]!.op).toBe(op);
      expect(parseFilter(`lr${op}1`, KEYS).conditions[0]!.op).toBe(op);
    }
    expect(parseFilter('lr == 1', KEYS).conditions[0]!.op).toBe('=');
  });

  it('reads numbers, booleans, quoted and bare strings', () => {
    const value = (text: string) => parseFilter(`note = ${text}`, KEYS).conditions[0]!.value;
    expect(value('0.01')).toBe(0.01);
    expect(value('-3')).toBe(-3);
    expect(value('+2.5')).toBe(2.5);
    expect(value('.5')).toBe(0.5);
    expect(value('1e-3')).toBe(0.001);
    expect(value('2E+2')).toBe(200);
    expect(value('true')).toBe(true);
    expect(value('false')).toBe(false);
    expect(value('adam')).toBe('adam');
    expect(value('two words')).toBe('two words');
    expect(value('"0.01"')).toBe('0.01');
    expect(value("'true'")).toBe('true');
    expect(value('"a, b and c"')).toBe('a, b and c');
    expect(value(`"it's"`)).toBe("it's");
    expect(value('""')).toBe('');
  });

  it('treats an empty filter (or only commas and spaces) as matching every row', () => {
    expect(parseFilter('', KEYS).conditions).toEqual([]);
    expect(parseFilter('  , ,', KEYS).conditions).toEqual([]);
    expect(matches(parseFilter('', KEYS), ROW)).toBe(true);
    expect(matches(parseFilter('', KEYS), row())).toBe(true);
  });
});

describe('numbers', () => {
  it('compares numerically with every operator', () => {
    expect(hit('lr < 0.01')).toBe(true);
    expect(hit('lr < 0.001')).toBe(false);
    expect(hit('lr <= 0.001')).toBe(true);
    expect(hit('lr <= 0.0009')).toBe(false);
    expect(hit('lr > 0.0001')).toBe(true);
    expect(hit('lr > 0.001')).toBe(false);
    expect(hit('lr >= 0.001')).toBe(true);
    expect(hit('lr >= 0.01')).toBe(false);
    expect(hit('lr = 0.001')).toBe(true);
    expect(hit('lr = 1e-3')).toBe(true);
    expect(hit('lr == 0.001')).toBe(true);
    expect(hit('lr = 0.002')).toBe(false);
    expect(hit('lr != 0.002')).toBe(true);
    expect(hit('lr != 0.001')).toBe(false);
  });

  it('compares as numbers, not text (10 > 9, 10 = 10.0)', () => {
    expect(hit('epochs > 9')).toBe(true);
    expect(hit('epochs < 9')).toBe(false);
    expect(hit('epochs = 10.0')).toBe(true);
    expect(hit('epochs >= 1e1')).toBe(true);
    expect(hit('epochs > -1')).toBe(true);
  });

  it('tests ~ as a substring of the number written as text', () => {
    expect(hit('epochs ~ 1')).toBe(true);
    expect(hit('epochs ~ 2')).toBe(false);
    expect(hit('lr ~ 0.00')).toBe(true);
  });
});

describe('strings', () => {
  it('compares bare and quoted strings with every operator', () => {
    for (const adam of ['adam', '"adam"', "'adam'"]) {
      expect(hit(`optimizer = ${adam}`)).toBe(true);
      expect(hit(`optimizer != ${adam}`)).toBe(false);
      expect(hit(`optimizer <= ${adam}`)).toBe(true);
      expect(hit(`optimizer >= ${adam}`)).toBe(true);
      expect(hit(`optimizer < ${adam}`)).toBe(false);
      expect(hit(`optimizer > ${adam}`)).toBe(false);
    }
    expect(hit('optimizer = sgd')).toBe(false);
    expect(hit('optimizer != sgd')).toBe(true);
    expect(hit('optimizer < b')).toBe(true);
    expect(hit('optimizer > b')).toBe(false);
    expect(hit('optimizer > a')).toBe(true);
    expect(hit("optimizer <= 'adamw'")).toBe(true);
  });

  it('is case-sensitive for = but case-insensitive for ~ (a substring test)', () => {
    expect(hit('optimizer = Adam')).toBe(false);
    expect(hit('optimizer ~ DA')).toBe(true);
    expect(hit('optimizer ~ "ad"')).toBe(true);
    expect(hit('optimizer ~ sgd')).toBe(false);
  });

  it('keeps commas, `and` and quotes of the other kind inside a quoted value', () => {
    expect(hit(`note ~ '"fine" and good'`)).toBe(true);
    expect(hit(`note ~ '"fine" and'`)).toBe(true);
    expect(hit(`note ~ "it's,"`)).toBe(true);
    expect(hit(`note ~ "it's," and optimizer = adam`)).toBe(true);
  });

  it('compares a quoted number as text against a number param (and a bare string against a number)', () => {
    expect(hit('lr = "0.001"')).toBe(true);
    expect(hit('epochs = "10"')).toBe(true);
    expect(hit('epochs < "9"')).toBe(true); // as text, "10" < "9"
    expect(hit('epochs = ten')).toBe(false);
  });
});

describe('booleans', () => {
  it('compares true and false', () => {
    expect(hit('amp = true')).toBe(true);
    expect(hit('amp = false')).toBe(false);
    expect(hit('amp != false')).toBe(true);
    expect(hit('amp != true')).toBe(false);
    expect(hit('amp == true')).toBe(true);
    expect(hit('amp = "true"')).toBe(true);
    const off = row({ params: { amp: false } });
    expect(hit('amp = false', off)).toBe(true);
    expect(hit('amp = true', off)).toBe(false);
    expect(hit('amp != true', off)).toBe(true);
  });
});

describe('metrics', () => {
  it('uses the last value by default, or last()/min()/max()', () => {
    expect(hit('val/acc > 0.9')).toBe(true);
    expect(hit('val/acc > 0.93')).toBe(false);
    expect(hit('last(val/acc) > 0.9')).toBe(true);
    expect(hit('last(val/acc) > 0.93')).toBe(false);
    expect(hit('max(val/acc) > 0.93')).toBe(true);
    expect(hit('max(val/acc) >= 0.95')).toBe(true);
    expect(hit('max(val/acc) > 0.95')).toBe(false);
    expect(hit('min(val/acc) < 0.5')).toBe(true);
    expect(hit('min(val/acc) < 0.4')).toBe(false);
    expect(hit('min(val/acc) = 0.4')).toBe(true);
    expect(hit('min( val/acc ) != 0.4')).toBe(false);
    expect(hit('max (val/acc)<=0.95')).toBe(true);
  });

  it('lets a param shadow a metric of the same name; a stat still reaches the metric', () => {
    expect(parseFilter('loss = ce', KEYS).conditions[0]!.field).toEqual({ kind: 'param', key: 'loss' });
    expect(hit('loss = ce')).toBe(true);
    expect(hit('loss < 1')).toBe(false); // 'ce' vs 1, as text
    expect(hit('last(loss) < 1')).toBe(true);
    expect(hit('min(loss) < 0.2')).toBe(true);
    expect(hit('max(loss) > 2')).toBe(true);
    expect(parseFilter('min(loss) < 0.2', KEYS).conditions[0]!.field).toEqual({ kind: 'metric', key: 'loss', stat: 'min' });
  });

  it('lets a param or metric shadow name, status and tag', () => {
    const keys = { params: ['name'], metrics: ['status'] };
    expect(parseFilter('name = x', keys).conditions[0]!.field).toEqual({ kind: 'param', key: 'name' });
    expect(parseFilter('status < 1', keys).conditions[0]!.field).toEqual({ kind: 'metric', key: 'status', stat: 'last' });
    const r = row({ name: 'run', params: { name: 'x' }, metrics: { status: metric(0.5) } });
    expect(matches(parseFilter('name = x', keys), r)).toBe(true);
    expect(matches(parseFilter('status < 1', keys), r)).toBe(true);
  });

  it('never matches a null (NaN or ±Infinity) value, whatever the operator', () => {
    for (const op of ['<', '<=', '>', '>=', '=', '!=', '~']) {
      expect(hit(`nan_metric ${op} 0.5`)).toBe(false);
      expect(hit(`last(nan_metric) ${op} 0.5`)).toBe(false);
    }
    expect(hit('nan_metric != null')).toBe(false);
    expect(hit('min(nan_metric) < 0.5')).toBe(true);
    expect(hit('max(nan_metric) > 0.5')).toBe(true);
    const allNull = row({ metrics: { loss: { count: 3, lastStep: 2, last: null, min: null, max: null } } });
    for (const stat of ['last', 'min', 'max']) {
      expect(hit(`${stat}(loss) != 0`, allNull)).toBe(false);
      expect(hit(`${stat}(loss) >= -1e9`, allNull)).toBe(false);
    }
  });
});

describe('keys with / . - _', () => {
  it('reads them as whole names, with or without spaces around the operator', () => {
    expect(hit('model.name = resnet')).toBe(true);
    expect(hit('model.name=resnet')).toBe(true);
    expect(hit('warm-up >= 5')).toBe(true);
    expect(hit('warm-up>=5')).toBe(true);
    expect(hit('warm-up>-1')).toBe(true);
    expect(hit('batch_size = 64')).toBe(true);
    expect(hit('opt/beta < 1')).toBe(true);
    expect(hit('train.loss < 0.3')).toBe(true);
    expect(hit('min(train.loss)=0.2')).toBe(true);
    expect(hit('grad-norm > 1')).toBe(true);
    expect(hit('max(grad-norm) > 8')).toBe(true);
    expect(hit('lr_scale = 1')).toBe(true);
    expect(hit('val/acc>0.9')).toBe(true);
  });
});

describe('joining conditions', () => {
  it('requires every condition joined by `and` or `,`', () => {
    expect(hit('val/acc > 0.9 and optimizer = adam')).toBe(true);
    expect(hit('val/acc > 0.9 and optimizer = sgd')).toBe(false);
    expect(hit('val/acc > 0.99 and optimizer = adam')).toBe(false);
    expect(hit('val/acc > 0.9, optimizer = adam')).toBe(true);
    expect(hit('val/acc > 0.9,optimizer = sgd')).toBe(false);
    expect(hit('lr < 0.01 AND max(val/acc) >= 0.9, tag = gpu')).toBe(true);
    expect(hit('lr < 0.01 and max(val/acc) >= 0.9, tag = cpu')).toBe(false);
    expect(parseFilter('lr < 0.01  and  epochs > 1 , tag = x,', KEYS).conditions).toHaveLength(3);
  });

  it('splits on the word `and` only, not on `and` inside a name or value', () => {
    const r = row({ name: 'band', params: { optimizer: 'sand and stone' } });
    expect(hit('name = band', r)).toBe(true);
    expect(hit('name ~ and', r)).toBe(true);
    expect(hit('optimizer = "sand and stone"', r)).toBe(true);
    expect(hit("optimizer = 'sand and stone' and name = band", r)).toBe(true);
    expect(parseFilter('name = band and tag = x', KEYS).conditions.map((c) => c.value)).toEqual(['band', 'x']);
  });
});

describe('tag, status and name', () => {
  it('tag = x: some tag is x; tag != x: no tag is x', () => {
    expect(hit('tag = gpu')).toBe(true);
    expect(hit('tags = base')).toBe(true);
    expect(hit('tag = cpu')).toBe(false);
    expect(hit('tag != cpu')).toBe(true);
    expect(hit('tag != gpu')).toBe(false);
    expect(hit('tag != base')).toBe(false);
    expect(hit('tag ~ GP')).toBe(true);
    expect(hit('tag ~ zz')).toBe(false);
    expect(hit('tag > fast')).toBe(true); // 'gpu' > 'fast'
    expect(hit('tag < a')).toBe(false);
    const untagged = row({ tags: [] });
    expect(hit('tag = gpu', untagged)).toBe(false);
    expect(hit('tag ~ g', untagged)).toBe(false);
    expect(hit('tag != gpu', untagged)).toBe(true);
  });

  it('compares the status', () => {
    const running = row({ status: 'running' });
    expect(hit('status = running', running)).toBe(true);
    expect(hit('status = "running"', running)).toBe(true);
    expect(hit('STATUS = running', running)).toBe(true);
    expect(hit('status = completed', running)).toBe(false);
    expect(hit('status != completed', running)).toBe(true);
    expect(hit('status != running', running)).toBe(false);
    expect(hit('status ~ RUN', running)).toBe(true);
    expect(hit('status = crashed', row({ status: 'crashed' }))).toBe(true);
  });

  it('compares the name', () => {
    expect(hit('name = baseline-Run')).toBe(true);
    expect(hit('name = baseline-run')).toBe(false);
    expect(hit('name != other')).toBe(true);
    expect(hit('name ~ line-r')).toBe(true);
    expect(hit('name ~ "LINE"')).toBe(true);
    expect(hit('name ~ foo')).toBe(false);
    expect(hit('name < c')).toBe(true);
    expect(hit('Name > c')).toBe(false);
    expect(hit('name = "my run"', row({ name: 'my run' }))).toBe(true);
    expect(hit('name = my run', row({ name: 'my run' }))).toBe(true);
  });
});

describe('missing params and metrics', () => {
  const bare = row({ params: {}, metrics: {} });

  it('never matches a row without the param, whatever the operator (also !=)', () => {
    for (const op of ['<', '<=', '>', '>=', '=', '!=', '~']) {
      expect(hit(`lr ${op} 0.01`, bare)).toBe(false);
      expect(hit(`optimizer ${op} adam`, bare)).toBe(false);
      expect(hit(`amp ${op} true`, bare)).toBe(false);
    }
  });

  it('never matches a row without the metric, whatever the operator or stat (also !=)', () => {
    for (const op of ['<', '<=', '>', '>=', '=', '!=', '~']) {
      expect(hit(`val/acc ${op} 0.5`, bare)).toBe(false);
      for (const stat of ['last', 'min', 'max']) expect(hit(`${stat}(val/acc) ${op} 0.5`, bare)).toBe(false);
    }
  });

  it('does not fall back to the metric when the shadowing param is missing from a row', () => {
    const metricOnly = row({ params: {}, metrics: { loss: metric(0.3) } });
    expect(hit('loss < 1', metricOnly)).toBe(false);
    expect(hit('loss != ce', metricOnly)).toBe(false);
    expect(hit('last(loss) < 1', metricOnly)).toBe(true);
  });
});

describe('errors', () => {
  it('names an unknown name', () => {
    const error = parseError('lrate < 0.01');
    expect(error.message).toContain("'lrate'");
    expect(error.message).toMatch(/no param or metric/);
    expect(parseError('lr < 0.01 and nope = 1').message).toContain("'nope'");
  });

  it('names a missing value and its operator', () => {
    for (const [text, op] of [
      ['lr <', '<'],
      ['lr <=  ', '<='],
      ['lr !=', '!='],
      ['lr ==', '='],
      ['name ~', '~'],
    ] as const) {
      const error = parseError(text);
      expect(error.message).toMatch(/missing value/);
      expect(error.message).toContain(`'${op}'`);
      expect(error.message).toContain(text.trim());
    }
    expect(parseError('lr <, tag = x').message).toContain("'lr <'");
    expect(parseError('tag = x and lr >').message).toContain("'lr >'");
  });

  it('names a condition without an operator', () => {
    const error = parseError('lr 0.01');
    expect(error.message).toContain("'lr 0.01'");
    expect(error.message).toMatch(/expected NAME OP VALUE/);
    expect(parseError('tag = x, optimizer').message).toContain("'optimizer'");
    expect(parseError('lr ! 1').message).toContain("'lr ! 1'");
  });

  // BUG: `lr <<< 1` parses as `lr < "<< 1"` (the rest after the first operator is taken as a bare string value),
  // so it is silently accepted (and matches lr = 0.001, since "0.001" < "<< 1" as text). Same for `lr =< 1`,
  // `lr >< 1`, `lr === 1`, `lr => 1`.
  it('rejects a bad operator like <<<, naming it', () => {
    for (const text of ['lr <<< 1', 'lr =< 1', 'lr >< 1', 'lr === 1']) {
      const error = parseError(text);
      expect(error.message).toContain(text);
    }
  });

  it('names an unterminated quote', () => {
    for (const text of ['name = "abc', "name = 'abc", 'name = "', 'optimizer = \'adam"', 'name = "a, tag = x']) {
      const error = parseError(text);
      expect(error.message).toMatch(/unterminated quote/);
      expect(error.message).toContain(text.slice(text.indexOf('=') + 1).trim());
    }
  });

  it('names min()/max()/last() on a param, and on an unknown name', () => {
    const error = parseError('min(lr) < 0.1');
    expect(error.message).toContain("'min(lr)'");
    expect(error.message).toMatch(/lr is a param/);
    expect(parseError('max(epochs) > 1').message).toContain("'max(epochs)'");
    expect(parseError('last(optimizer) = adam').message).toMatch(/optimizer is a param; last\(\) applies to metrics/);
    const unknown = parseError('max(nope) > 1');
    expect(unknown.message).toContain("'max(nope)'");
    expect(unknown.message).toContain("no metric named 'nope'");
    expect(parseError('min(name) ~ x').message).toContain("no metric named 'name'");
  });

  it('throws FilterError, an Error', () => {
    expect(() => parseFilter('nope = 1', KEYS)).toThrow(FilterError);
    expect(parseError('nope = 1')).toBeInstanceOf(Error);
  });
});
