import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EBS_MODEL, EBS_OPERATIONS } from '../../src/services/ebs/index.js';

describe('the EBS direct APIs model agrees with botocore', () => {
  it('the vendored model is what scripts/gen-ebs-model.py extracts from the installed botocore', () => {
    const fresh = execFileSync('python3', ['scripts/gen-ebs-model.py'], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(fresh), JSON.parse(readFileSync('src/services/ebs/model.json', 'utf8')));
  });

  it('every operation in the table is an operation of the model, and every modelled one has an entry', () => {
    assert.deepEqual([...EBS_OPERATIONS.keys()].sort(), Object.keys(EBS_MODEL.operations).sort());
  });

  it('only PutSnapshotBlock is signed over UNSIGNED-PAYLOAD, and its payload is the BlockData blob', () => {
    assert.deepEqual(Object.entries(EBS_MODEL.operations).filter(([, o]) => o.unsignedPayload).map(([n]) => n), ['PutSnapshotBlock']);
    assert.equal(EBS_MODEL.shapes.PutSnapshotBlockRequest!.payload, 'BlockData');
  });
});
