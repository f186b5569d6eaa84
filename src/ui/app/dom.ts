// DOM helpers: build elements from tag, attributes and children, and format numbers and times.

import { fromJsonNumber, type JsonNumber } from '../../model/json-number.js';

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/** An element: `h('td', { class: 'num', onclick: fn }, text, child…)`. Strings become text nodes (never HTML). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
      else if (value === true) el.setAttribute(name, '');
      else el.setAttribute(name, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
  }
  return el;
}

/** Replaces the children of `parent`. */
export function mount(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren();
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
  }
}

/** A number as people read it: up to 6 significant digits, exponent for very large or small. */
/** A number as the tables show it; NaN and ±Infinity (numbers or the answers' tokens) as NaN, Infinity, -Infinity. */
export function formatNumber(json: JsonNumber | null | undefined): string {
  const value = fromJsonNumber(json);
  if (value === null) return '—';
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e9)) return value.toExponential(4);
  return String(Number(value.toPrecision(6)));
}

export function formatValue(value: unknown): string {
  if (typeof value === 'number') return formatNumber(value);
  if (value === null || value === undefined) return '—';
  return String(value);
}

/** A duration in ms as "1h 02m", "3m 05s", "4.2s". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  const hrs = Math.floor(m / 60);
  return `${hrs}h ${String(m % 60).padStart(2, '0')}m`;
}

/** A time (ms since epoch) as local "YYYY-MM-DD HH:MM:SS". */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A status badge; running ones carry a pulsing dot. */
export function statusBadge(status: string): HTMLElement {
  return h(
    'span',
    { class: `status status-${status}`, 'data-status': status },
    status === 'running' ? h('span', { class: 'live-dot' }) : null,
    status,
  );
}

export function emptyState(title: string, ...lines: (Child | Child[])[]): HTMLElement {
  return h('div', { class: 'empty' }, h('h2', null, title), ...lines.map((line) => h('p', null, line)));
}
