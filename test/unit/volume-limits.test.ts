// EBS's IOPS/throughput rule table (src/core/volumes/volume-limits.ts), the one CreateVolume and ModifyVolume share.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsError } from '../../src/core/errors/aws-error.js';
import { PERFORMANCE_LIMITS, provisionedPerformance } from '../../src/core/volumes/volume-limits.js';

const outcome = (f: () => unknown) => {
  try {
    return f();
  } catch (e) {
    if (e instanceof AwsError) return `${e.code}: ${e.message}`;
    throw e;
  }
};

describe('EBS provisioned-performance limits', () => {
  it('the table: gp3 3,000–80,000 IOPS at 500/GiB and 125–2,000 MiB/s at 0.25 per IOPS, io1 100–64,000 at 50/GiB, io2 100–256,000 at 1,000/GiB; no other type', () => {
    assert.deepEqual(Object.keys(PERFORMANCE_LIMITS).sort(), ['gp3', 'io1', 'io2']);
    assert.deepEqual([PERFORMANCE_LIMITS.gp3!.iops, PERFORMANCE_LIMITS.gp3!.iopsPerGiB, PERFORMANCE_LIMITS.gp3!.throughput], [[3000, 80000], 500, { range: [125, 2000], perIops: 0.25, default: 125 }]);
    assert.deepEqual([PERFORMANCE_LIMITS.io1!.iops, PERFORMANCE_LIMITS.io1!.iopsPerGiB, PERFORMANCE_LIMITS.io2!.iops, PERFORMANCE_LIMITS.io2!.iopsPerGiB], [[100, 64000], 50, [100, 256000], 1000]);
  });

  it('each limit is inclusive: one past it is refused, the limit itself accepted', () => {
    assert.deepEqual(provisionedPerformance('gp3', 160, { iops: 80000, throughput: 2000 }), { iops: 80000, throughput: 2000 });
    assert.match(String(outcome(() => provisionedPerformance('gp3', 160, { iops: 80001 }))), /^InvalidParameterValue: Volume iops of 80001 is too high/);
    assert.match(String(outcome(() => provisionedPerformance('gp3', 159, { iops: 80000 }))), /^InvalidParameterValue: Iops to volume size ratio of 503.144654 is too high; maximum is 500$/);
    assert.deepEqual(provisionedPerformance('gp3', 1, {}), { iops: 3000, throughput: 125 });
    assert.deepEqual(provisionedPerformance('gp3', 1, { throughput: 750 }), { iops: 3000, throughput: 750 });
    assert.match(String(outcome(() => provisionedPerformance('gp3', 1, { throughput: 751 }))), /^InvalidParameterValue: Throughput \(MiBps\) to iops ratio of 0.250333/);
    assert.deepEqual(provisionedPerformance('io2', 256, { iops: 256000 }), { iops: 256000 });
    assert.match(String(outcome(() => provisionedPerformance('io2', 255, { iops: 256000 }))), /^InvalidParameterValue: Iops to volume size ratio/);
    assert.deepEqual(provisionedPerformance('io1', 4, { iops: 100 }), { iops: 100 });
    assert.match(String(outcome(() => provisionedPerformance('io1', 4, { iops: 99 }))), /^InvalidParameterValue: Volume iops of 99 is too low; minimum is 100\.$/);
  });

  it('kept values apply when none are given, and are checked against the new size and type', () => {
    assert.deepEqual(provisionedPerformance('gp3', 20, { iops: 4000 }, { iops: 3000, throughput: 250 }), { iops: 4000, throughput: 250 });
    assert.match(String(outcome(() => provisionedPerformance('gp3', 20, { iops: 3000 }, { iops: 4000, throughput: 1000 }))), /^InvalidParameterValue: Throughput \(MiBps\) to iops ratio/);
    assert.deepEqual(provisionedPerformance('gp2', 20, {}, { iops: 4000, throughput: 1000 }), {});
    assert.equal(outcome(() => provisionedPerformance('io1', 20, {})), 'InvalidParameterCombination: The parameter iops must be specified for io1 volumes.');
    assert.equal(outcome(() => provisionedPerformance('sc1', 200, { iops: 100 })), 'InvalidParameterCombination: The parameter iops is not supported for sc1 volumes.');
    assert.equal(outcome(() => provisionedPerformance('io2', 20, { iops: 1000, throughput: 200 })), 'InvalidParameterCombination: throughput can only be specified for volumeType gp3.');
  });
});
