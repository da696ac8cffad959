import { AwsError } from '../../core/errors/aws-error.js';
import { QueryErrors } from '../../core/errors/query.js';
import { encodeMarker } from '../../core/pagination.js';
import { ListOptions } from '../../store/metadata/iam-types.js';
import { Page } from '../../store/metadata/types.js';

/**
 * IAM pagination: MaxItems (1–1000, default 100) and an opaque Marker; answers say IsTruncated and, when
 * true, the Marker of the next page. https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUsers.html
 * Markers name the listing they came from, so one cannot be replayed into another.
 */
export interface PageInput {
  readonly Marker?: string;
  readonly MaxItems?: number;
  readonly PathPrefix?: string;
}

const DEFAULT_MAX_ITEMS = 100;

export function listOptions(kind: string, input: PageInput): ListOptions {
  const after = input.Marker === undefined ? undefined : decode(kind, input.Marker);
  return {
    limit: input.MaxItems ?? DEFAULT_MAX_ITEMS,
    ...(after !== undefined ? { after } : {}),
    ...(input.PathPrefix !== undefined ? { pathPrefix: input.PathPrefix } : {}),
  };
}

export function pageOutput(kind: string, page: Page<unknown>): { IsTruncated: boolean; Marker?: string } {
  return page.next === undefined ? { IsTruncated: false } : { IsTruncated: true, Marker: encodeMarker(kind, page.next) };
}

function decode(kind: string, marker: string): string {
  const raw = /^[A-Za-z0-9_-]+$/.test(marker) ? Buffer.from(marker, 'base64url').toString('utf8') : '';
  const prefix = `${kind}\0`;
  if (!raw.startsWith(prefix) || raw.length === prefix.length) throw new AwsError(QueryErrors.ValidationError, 'Invalid Marker.');
  return raw.slice(prefix.length);
}
