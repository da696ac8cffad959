import { needs } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';
import { KeyRecord, Page, Tag, keyRowId } from '../../store/metadata/types.js';
import { KmsDeps } from './context.js';
import { needsNotPendingDeletion } from './key-state.js';

/** AWS: at most 50 tags per KMS key; keys beginning with `aws:` are reserved. */
export const MAX_TAGS_PER_KEY = 50;

export function checkTags(tags: readonly Tag[]): void {
  for (const t of tags) {
    needs(!t.TagKey.startsWith('aws:'), KmsErrors.TagException, 'Tag keys beginning with aws: are reserved for AWS use.');
  }
  needs(
    new Set(tags.map((t) => t.TagKey)).size === tags.length,
    KmsErrors.TagException,
    'Duplicate tag keys in one request are not allowed.',
  );
}

export class Tags {
  constructor(private readonly deps: KmsDeps) {}

  async tag(key: KeyRecord, tags: readonly Tag[]): Promise<void> {
    needsNotPendingDeletion(key);
    checkTags(tags);
    const existing = new Set((await this.deps.store.listTags(keyRowId(key), undefined, MAX_TAGS_PER_KEY + 1)).items.map((t) => t.TagKey));
    const added = tags.filter((t) => !existing.has(t.TagKey)).length;
    needs(existing.size + added <= MAX_TAGS_PER_KEY, KmsErrors.TagException, `A KMS key can have at most ${MAX_TAGS_PER_KEY} tags.`);
    await this.deps.store.putTags(keyRowId(key), tags);
  }

  async untag(key: KeyRecord, tagKeys: readonly string[]): Promise<void> {
    needsNotPendingDeletion(key);
    await this.deps.store.removeTags(keyRowId(key), tagKeys);
  }

  list(key: KeyRecord, after: string | undefined, limit: number): Promise<Page<Tag>> {
    return this.deps.store.listTags(keyRowId(key), after, limit);
  }
}
