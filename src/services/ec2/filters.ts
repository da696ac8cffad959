import { AwsError } from '../../core/errors/aws-error.js';
import { Ec2Errors } from '../../core/errors/ec2.js';

export interface Filter {
  readonly Name?: string;
  readonly Values?: readonly string[];
}

/** What a filter name reads of a resource: its value(s), or undefined when it has none. */
export type FilterFields<T> = Readonly<Record<string, (r: T) => string | readonly string[] | undefined>>;

/**
 * EC2's Filter semantics (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Filtering.html): a resource
 * matches when, for every filter, one of its values matches one of the filter's values (OR within a filter,
 * AND across filters); values may use the wildcards * and ?; `tag:<key>` matches the tag's value, `tag-key` any
 * tag's key. An unknown filter name is InvalidParameterValue, as EC2 answers.
 */
export function matcher<T extends { tags: Readonly<Record<string, string>> }>(filters: readonly Filter[] | undefined, fields: FilterFields<T>): (r: T) => boolean {
  const tests = (filters ?? []).map((f) => {
    const name = f.Name ?? '';
    const patterns = (f.Values ?? []).map(glob);
    let read: (r: T) => readonly string[];
    if (name.startsWith('tag:')) {
      const key = name.slice(4);
      read = (r) => (key in r.tags ? [r.tags[key]!] : []);
    } else if (name === 'tag-key') {
      read = (r) => Object.keys(r.tags);
    } else if (name === 'tag-value') {
      read = (r) => Object.values(r.tags);
    } else {
      const field = fields[name];
      if (!field) throw new AwsError(Ec2Errors.InvalidParameterValue, `The filter '${name.slice(0, 128)}' is invalid`);
      read = (r) => {
        const v = field(r);
        return v === undefined ? [] : typeof v === 'string' ? [v] : v;
      };
    }
    return (r: T) => read(r).some((v) => patterns.some((p) => p.test(v)));
  });
  return (r) => tests.every((t) => t(r));
}

function glob(pattern: string): RegExp {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's');
}

/**
 * One page of `items` (sorted by id): MaxResults at least `min`, at most `max` items, NextToken the
 * last id shown, base64 (opaque to callers).
 */
export function page<T>(items: readonly T[], id: (t: T) => string, maxResults: number | undefined, nextToken: string | undefined, bounds: { min: number; max: number }): { items: T[]; nextToken?: string } {
  // Below the minimum EC2 refuses; above the maximum it answers a page of the maximum (the aws CLI asks 1000).
  if (maxResults !== undefined && maxResults < bounds.min) {
    throw new AwsError(Ec2Errors.InvalidParameterValue, `Value ( ${maxResults} ) for parameter maxResults is invalid. Expecting a value greater than ${bounds.min}.`);
  }
  if (maxResults !== undefined) maxResults = Math.min(maxResults, bounds.max);
  let start = 0;
  if (nextToken !== undefined) {
    const after = Buffer.from(nextToken, 'base64url').toString('utf8');
    if (!/^(vol|snap)-[0-9a-f]+$/.test(after)) throw new AwsError(Ec2Errors.InvalidParameterValue, 'The parameter NextToken is invalid.');
    start = items.findIndex((t) => id(t) > after);
    if (start < 0) start = items.length;
  }
  const limit = maxResults ?? items.length;
  const shown = items.slice(start, start + limit);
  const more = start + limit < items.length;
  return { items: shown, ...(more && shown.length > 0 ? { nextToken: Buffer.from(id(shown[shown.length - 1]!)).toString('base64url') } : {}) };
}
