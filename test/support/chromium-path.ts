// Test support: where the browser tests look for Chromium (read without side effects, also by the run's reporter).

import { existsSync } from 'node:fs';

export const CHROMIUM = process.env['LABLOG_CHROMIUM'] ?? '/usr/bin/chromium';

export const CHROMIUM_AVAILABLE = existsSync(CHROMIUM);
