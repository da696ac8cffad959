import { readFileSync } from 'node:fs';

/** package.json's version (dist/src/version.js → the package root). */
export const STRONGROOM_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
