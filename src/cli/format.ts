// Formatting of values for terminal output: numbers, params, times and durations.

import type { ParamValue } from '../model/validation.js';

/** A number in at most 6 significant digits, keeping NaN and ±Infinity visible. */
export function formatNumber(value: number | null): string {
  if (value === null) return '-';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  return String(Number(value.toPrecision(6)));
}

export function formatParam(value: ParamValue): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number') return formatNumber(value);
  return String(value);
}

/** Local date and time, to the second: 2026-11-23 14:05:09. */
export function formatTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m - h * 60} min`;
}

/** Characters of a text progress bar. */
export const PROGRESS_BAR_WIDTH = 20;

/** A progress as a bar and its percentage: `[#########-----------]  45%`. */
export function formatProgress(pct: number, width = PROGRESS_BAR_WIDTH): string {
  const filled = Math.round((Math.min(100, Math.max(0, pct)) / 100) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${formatNumber(Number(pct.toFixed(1))).padStart(4)}%`;
}
