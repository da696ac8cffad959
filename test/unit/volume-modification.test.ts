// ModifyVolume's rules (src/core/volumes/volume-modification.ts) on records the API cannot produce: a
// modification still under way (Strongroom completes its own at once), and the type changes' IOPS rules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsError } from '../../src/core/errors/aws-error.js';
import { MODIFICATION_COOLDOWN_MS, modifiedVolume } from '../../src/core/volumes/volume-modification.js';
import { VolumeRecord } from '../../src/store/metadata/volume-types.js';

const base: VolumeRecord = {
  volumeId: 'vol-0aaaaaaaaaaaaaaaa', accountId: '111122223333', region: 'us-east-1', availabilityZone: 'us-east-1a', sizeGiB: 200, volumeType: 'gp3',
  iops: 6000, throughput: 250, encrypted: false, dataKey: { kind: 'service', sealed: 'x' }, state: 'available', createTime: 0, tags: {},
};
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof AwsError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'accepted';
};

describe('ModifyVolume rules', () => {
  it('a volume whose modification is still modifying or optimizing is IncorrectModificationState; a failed one only waits for the cooldown', () => {
    const under = (state: 'modifying' | 'optimizing' | 'failed') => ({ ...base, modification: { state, original: { sizeGiB: 100, volumeType: 'gp3' }, target: { sizeGiB: 200, volumeType: 'gp3' }, startTime: 0 } });
    assert.equal(code(() => modifiedVolume(under('optimizing'), { sizeGiB: 300 }, 1)), `IncorrectModificationState: Volume ${base.volumeId} cannot be modified in modification state OPTIMIZING`);
    assert.match(code(() => modifiedVolume(under('modifying'), { sizeGiB: 300 }, 1)), /^IncorrectModificationState/);
    assert.match(code(() => modifiedVolume(under('failed'), { sizeGiB: 300 }, 1)), /^VolumeModificationRateExceeded/);
    assert.equal(modifiedVolume(under('failed'), { sizeGiB: 300 }, MODIFICATION_COOLDOWN_MS).sizeGiB, 300);
  });

  it('type changes: gp3 → gp2 drops IOPS and throughput, gp2 → io2 gets 3,000 IOPS unless given (→ io1 at 4 GiB: over io1 50 per GiB), st1 needs 125 GiB, standard is not modified, a volume being created is not', () => {
    const toGp2 = modifiedVolume(base, { volumeType: 'gp2' }, 0);
    assert.deepEqual([toGp2.volumeType, toGp2.iops, toGp2.throughput, toGp2.modification?.original.iops, toGp2.modification?.target.iops], ['gp2', undefined, undefined, 6000, undefined]);
    const gp2 = { ...toGp2, modification: undefined };
    assert.equal(modifiedVolume(gp2, { volumeType: 'io2' }, 0).iops, 3000);
    assert.equal(modifiedVolume(gp2, { volumeType: 'io1' }, 0).iops, 3000);
    assert.match(code(() => modifiedVolume({ ...gp2, sizeGiB: 4 }, { volumeType: 'io1' }, 0)), /^InvalidParameterValue: Iops to volume size ratio of 750\.000000 is too high; maximum is 50/);
    assert.equal(modifiedVolume(gp2, { volumeType: 'io2', iops: 10000 }, 0).iops, 10000);
    assert.match(code(() => modifiedVolume(gp2, { throughput: 500 }, 0)), /^InvalidParameterCombination/);
    assert.match(code(() => modifiedVolume({ ...base, sizeGiB: 100 }, { volumeType: 'st1' }, 0)), /^InvalidParameterValue: Volume of 100GiB is too small; minimum is 125GiB/);
    assert.match(code(() => modifiedVolume(base, { volumeType: 'standard' }, 0)), /^InvalidParameterValue/);
    assert.match(code(() => modifiedVolume({ ...base, volumeType: 'standard' }, { sizeGiB: 300 }, 0)), /^InvalidParameterValue/);
    assert.match(code(() => modifiedVolume(base, { volumeType: 'gp9' }, 0)), /^InvalidParameterValue: Value \(gp9\) for parameter volumeType is invalid/);
    assert.match(code(() => modifiedVolume({ ...base, state: 'creating' }, { sizeGiB: 300 }, 0)), /^IncorrectState/);
    // gp3 kept: its IOPS and throughput are kept unless given.
    const bigger = modifiedVolume(base, { sizeGiB: 300 }, 0);
    assert.deepEqual([bigger.sizeGiB, bigger.iops, bigger.throughput, bigger.modification?.state], [300, 6000, 250, 'completed']);
  });
});
