import { needs } from './errors/aws-error.js';
import { KmsErrors } from './errors/kms.js';

/**
 * Opaque pagination markers: the store's sort key, base64url-encoded with a prefix naming what is paged,
 * so a marker from ListKeys cannot be replayed into ListAliases. Anything else is InvalidMarkerException.
 */
export function encodeMarker(kind: string, sortKey: string): string {
  return Buffer.from(`${kind}\0${sortKey}`, 'utf8').toString('base64url');
}

export function decodeMarker(kind: string, marker: string | undefined): string | undefined {
  if (marker === undefined) return undefined;
  const raw = /^[A-Za-z0-9_-]+$/.test(marker) ? Buffer.from(marker, 'base64url').toString('utf8') : '';
  const prefix = `${kind}\0`;
  needs(raw.startsWith(prefix) && raw.length > prefix.length, KmsErrors.InvalidMarkerException, 'Invalid marker');
  return raw.slice(prefix.length);
}
