import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InProcessInvalidation, TOPICS } from '../../src/core/cache/invalidation.js';
import { IamChanges } from '../../src/core/iam/deps.js';

describe('IAM writes announce policy changes', () => {
  it('after a write that fails as after one that succeeds (a failed write may still have changed something)', async () => {
    const port = new InProcessInvalidation();
    let heard = 0;
    port.subscribe(TOPICS.iamPolicies, () => heard++);
    const changes = new IamChanges(port);
    assert.equal(await changes.after(async () => 'written'), 'written');
    assert.equal(heard, 1);
    await assert.rejects(changes.after(async () => Promise.reject(new Error('the store failed mid-write'))), /failed mid-write/);
    assert.equal(heard, 2, 'published although the write rejected');
  });
});
