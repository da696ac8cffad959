// EBS's IOPS and throughput rules (src/core/volumes/volume-limits.ts) over HTTP with boto3: each is refused by
// CreateVolume and by ModifyVolume with EC2's code, message and status, and the boundaries are accepted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { boto3Unavailable, runBoto3 } from '../../helpers/boto3.js';
import { TEST_ACCOUNT, TestServer, startServer } from '../../helpers/server.js';

const SCENARIO = String.raw`
ec2 = client('ec2')
az = 'us-east-1a'
def create(**kw):
    return error_of(ec2.create_volume, AvailabilityZone=az, **kw)
def fresh(size, vtype, **kw):
    return ec2.create_volume(AvailabilityZone=az, Size=size, VolumeType=vtype, **kw)['VolumeId']
def perf(v):
    d = ec2.describe_volumes(VolumeIds=[v])['Volumes'][0]
    return [d['Size'], d['VolumeType'], d.get('Iops'), d.get('Throughput')]
def made(**kw):
    return perf(ec2.create_volume(AvailabilityZone=az, **kw)['VolumeId'])
def modified(v, **kw):
    m = ec2.modify_volume(VolumeId=v, **kw)['VolumeModification']
    return [m['TargetSize'], m['TargetVolumeType'], m.get('TargetIops'), m.get('TargetThroughput')] + [perf(v)]

c = {}
c['iopsOnGp2'] = create(Size=10, VolumeType='gp2', Iops=3000)
c['iopsOnSt1'] = create(Size=125, VolumeType='st1', Iops=500)
c['iopsOnStandard'] = create(Size=10, VolumeType='standard', Iops=100)
c['io1WithoutIops'] = create(Size=10, VolumeType='io1')
c['io2WithoutIops'] = create(Size=10, VolumeType='io2')
c['throughputOnIo1'] = create(Size=10, VolumeType='io1', Iops=100, Throughput=200)
c['throughputOnGp2'] = create(Size=10, VolumeType='gp2', Throughput=200)
c['gp3IopsLow'] = create(Size=10, VolumeType='gp3', Iops=2999)
c['gp3IopsHigh'] = create(Size=1000, VolumeType='gp3', Iops=80001)
c['io1IopsLow'] = create(Size=10, VolumeType='io1', Iops=99)
c['io1IopsHigh'] = create(Size=2000, VolumeType='io1', Iops=64001)
c['io2IopsHigh'] = create(Size=1000, VolumeType='io2', Iops=256001)
c['gp3Ratio'] = create(Size=20, VolumeType='gp3', Iops=15000)
c['io1Ratio'] = create(Size=10, VolumeType='io1', Iops=501)
c['io2Ratio'] = create(Size=4, VolumeType='io2', Iops=4001)
c['gp3SmallRatio'] = create(Size=1, VolumeType='gp3', Iops=3001)
c['throughputLow'] = create(Size=10, VolumeType='gp3', Throughput=124)
c['throughputHigh'] = create(Size=100, VolumeType='gp3', Iops=10000, Throughput=2001)
c['throughputRatio'] = create(Size=10, VolumeType='gp3', Throughput=1000)
out['create'] = c
out['volumesAfterRefusals'] = len(ec2.describe_volumes()['Volumes'])

a = {}
a['gp3Defaults'] = made(Size=1, VolumeType='gp3')
a['gp3Minimum'] = made(Size=1, VolumeType='gp3', Iops=3000, Throughput=125)
a['gp3Maximum'] = made(Size=160, VolumeType='gp3', Iops=80000, Throughput=2000)
a['gp3ThroughputRatio'] = made(Size=1, VolumeType='gp3', Iops=3000, Throughput=750)
a['io1Minimum'] = made(Size=4, VolumeType='io1', Iops=100)
a['io1Ratio'] = made(Size=4, VolumeType='io1', Iops=200)
a['io1Maximum'] = made(Size=1280, VolumeType='io1', Iops=64000)
a['io2Ratio'] = made(Size=4, VolumeType='io2', Iops=4000)
a['io2Maximum'] = made(Size=256, VolumeType='io2', Iops=256000)
a['gp2'] = made(Size=10, VolumeType='gp2')
a['gp2Baseline'] = made(Size=1000, VolumeType='gp2')
a['gp2Largest'] = made(Size=16384, VolumeType='gp2')
a['gp3Largest'] = made(Size=65536, VolumeType='gp3')
out['accepted'] = a

gp2 = fresh(4, 'gp2')
gp3 = fresh(20, 'gp3')
io1 = fresh(10, 'io1', Iops=500)
m = {}
m['iopsOnGp2'] = error_of(ec2.modify_volume, VolumeId=gp2, Iops=3000)
m['iopsToSt1'] = error_of(ec2.modify_volume, VolumeId=gp3, Size=125, VolumeType='st1', Iops=500)
m['toIo1DefaultRatio'] = error_of(ec2.modify_volume, VolumeId=gp2, VolumeType='io1')
m['throughputOnGp2'] = error_of(ec2.modify_volume, VolumeId=gp2, Throughput=200)
m['throughputToIo1'] = error_of(ec2.modify_volume, VolumeId=gp3, VolumeType='io1', Iops=500, Throughput=200)
m['gp3IopsLow'] = error_of(ec2.modify_volume, VolumeId=gp3, Iops=2999)
m['gp3IopsHigh'] = error_of(ec2.modify_volume, VolumeId=gp3, Size=1000, Iops=80001)
m['io1IopsLow'] = error_of(ec2.modify_volume, VolumeId=io1, Iops=99)
m['io1IopsHigh'] = error_of(ec2.modify_volume, VolumeId=io1, Size=2000, Iops=64001)
m['io2IopsHigh'] = error_of(ec2.modify_volume, VolumeId=gp3, Size=1000, VolumeType='io2', Iops=256001)
m['gp3Ratio'] = error_of(ec2.modify_volume, VolumeId=gp3, Iops=15000)
m['io1Ratio'] = error_of(ec2.modify_volume, VolumeId=io1, Iops=501)
m['toIo2Ratio'] = error_of(ec2.modify_volume, VolumeId=gp2, VolumeType='io2', Iops=4001)
m['throughputLow'] = error_of(ec2.modify_volume, VolumeId=gp3, Throughput=124)
m['throughputHigh'] = error_of(ec2.modify_volume, VolumeId=gp3, Size=100, Iops=10000, Throughput=2001)
m['throughputRatio'] = error_of(ec2.modify_volume, VolumeId=gp3, Throughput=1000)
m['toGp3ThroughputRatio'] = error_of(ec2.modify_volume, VolumeId=gp2, VolumeType='gp3', Throughput=1000)
out['modify'] = m
out['unchanged'] = [perf(gp2), perf(gp3), perf(io1)]
out['neverModified'] = [(error_of(ec2.describe_volumes_modifications, VolumeIds=[x]) or {}).get('code') for x in (gp2, gp3, io1)]

am = {}
am['gp3ThroughputRatio'] = modified(gp3, Throughput=750)
am['gp3Maximum'] = modified(fresh(100, 'gp3'), Size=160, Iops=80000, Throughput=2000)
am['gp2ToIo2Ratio'] = modified(gp2, VolumeType='io2', Iops=4000)
am['io1Ratio'] = modified(io1, Size=20, Iops=1000)
am['io1KeepsIops'] = modified(fresh(10, 'io1', Iops=500), Size=11)
am['io2Maximum'] = modified(fresh(256, 'gp3'), VolumeType='io2', Iops=256000)
am['gp2ToGp3Defaults'] = modified(fresh(1, 'gp2'), VolumeType='gp3')
am['gp2ToIo2Default'] = modified(fresh(4, 'gp2'), VolumeType='io2')
am['gp3ToGp2Drops'] = modified(fresh(10, 'gp3', Iops=5000, Throughput=300), VolumeType='gp2')
out['modifyAccepted'] = am
`;

const combination = (message: string) => ({ code: 'InvalidParameterCombination', message, status: 400 });
const value = (message: string) => ({ code: 'InvalidParameterValue', message, status: 400 });

describe('EBS IOPS and throughput limits on CreateVolume and ModifyVolume, over HTTP with boto3', { skip: boto3Unavailable() }, () => {
  let server: TestServer;
  let out: Record<string, any>;

  before(async () => {
    server = await startServer();
    out = await runBoto3(server.url, SCENARIO, { account: TEST_ACCOUNT });
  });
  after(() => server?.destroy());

  it('CreateVolume refuses Iops for gp2/st1/standard, Throughput for any type but gp3, and io1/io2 without Iops (InvalidParameterCombination, 400)', () => {
    const c = out.create;
    assert.deepEqual(c.iopsOnGp2, combination('The parameter iops is not supported for gp2 volumes.'));
    assert.deepEqual(c.iopsOnSt1, combination('The parameter iops is not supported for st1 volumes.'));
    assert.deepEqual(c.iopsOnStandard, combination('The parameter iops is not supported for standard volumes.'));
    assert.deepEqual(c.io1WithoutIops, combination('The parameter iops must be specified for io1 volumes.'));
    assert.deepEqual(c.io2WithoutIops, combination('The parameter iops must be specified for io2 volumes.'));
    assert.deepEqual(c.throughputOnIo1, combination('throughput can only be specified for volumeType gp3.'));
    assert.deepEqual(c.throughputOnGp2, combination('throughput can only be specified for volumeType gp3.'));
  });

  it("CreateVolume refuses IOPS and throughput outside the type's range and over its ratios (InvalidParameterValue, 400), and makes no volume", () => {
    const c = out.create;
    assert.deepEqual(c.gp3IopsLow, value('Volume iops of 2999 is too low; minimum is 3000.'));
    assert.deepEqual(c.gp3IopsHigh, value('Volume iops of 80001 is too high; maximum is 80000.'));
    assert.deepEqual(c.io1IopsLow, value('Volume iops of 99 is too low; minimum is 100.'));
    assert.deepEqual(c.io1IopsHigh, value('Volume iops of 64001 is too high; maximum is 64000.'));
    assert.deepEqual(c.io2IopsHigh, value('Volume iops of 256001 is too high; maximum is 256000.'));
    assert.deepEqual(c.gp3Ratio, value('Iops to volume size ratio of 750.000000 is too high; maximum is 500'));
    assert.deepEqual(c.io1Ratio, value('Iops to volume size ratio of 50.100000 is too high; maximum is 50'));
    assert.deepEqual(c.io2Ratio, value('Iops to volume size ratio of 1000.250000 is too high; maximum is 1000'));
    assert.deepEqual(c.gp3SmallRatio, value('Iops to volume size ratio of 3001.000000 is too high; maximum is 500'));
    assert.deepEqual(c.throughputLow, value('Volume throughput of 124 is too low; minimum is 125.'));
    assert.deepEqual(c.throughputHigh, value('Volume throughput of 2001 is too high; maximum is 2000.'));
    assert.deepEqual(c.throughputRatio, value('Throughput (MiBps) to iops ratio of 0.333333 is too high; maximum is 0.250000 MiBps per iops'));
    assert.equal(out.volumesAfterRefusals, 0);
  });

  it('CreateVolume accepts the boundaries: gp3 at 3,000 IOPS/125 MiB/s (its default) and 80,000/2,000, 0.25 MiB/s per IOPS, io1 at 50:1 and 64,000, io2 at 1000:1 and 256,000', () => {
    assert.deepEqual(out.accepted, {
      gp3Defaults: [1, 'gp3', 3000, 125],
      gp3Minimum: [1, 'gp3', 3000, 125],
      gp3Maximum: [160, 'gp3', 80000, 2000],
      gp3ThroughputRatio: [1, 'gp3', 3000, 750],
      io1Minimum: [4, 'io1', 100, null],
      io1Ratio: [4, 'io1', 200, null],
      io1Maximum: [1280, 'io1', 64000, null],
      io2Ratio: [4, 'io2', 4000, null],
      io2Maximum: [256, 'io2', 256000, null],
      // gp2 provisions nothing, but EC2 shows its baseline: 3 IOPS per GiB, at least 100, at most 16,000.
      gp2: [10, 'gp2', 100, null],
      gp2Baseline: [1000, 'gp2', 3000, null],
      gp2Largest: [16384, 'gp2', 16000, null],
      // gp3 volumes up to 64 TiB (the current CreateVolume reference), sparse here: nothing written, nothing stored.
      gp3Largest: [65536, 'gp3', 3000, 125],
    });
  });

  it('ModifyVolume refuses the same with the same codes and messages, on the target type and size with the kept values, and changes nothing', () => {
    const m = out.modify;
    assert.deepEqual(m.iopsOnGp2, combination('The parameter iops is not supported for gp2 volumes.'));
    assert.deepEqual(m.iopsToSt1, combination('The parameter iops is not supported for st1 volumes.'));
    // A change to io1 without Iops gets ModifyVolume's default 3,000 — over io1's 50 per GiB on 4 GiB.
    assert.deepEqual(m.toIo1DefaultRatio, value('Iops to volume size ratio of 750.000000 is too high; maximum is 50'));
    assert.deepEqual(m.throughputOnGp2, combination('throughput can only be specified for volumeType gp3.'));
    assert.deepEqual(m.throughputToIo1, combination('throughput can only be specified for volumeType gp3.'));
    assert.deepEqual(m.gp3IopsLow, value('Volume iops of 2999 is too low; minimum is 3000.'));
    assert.deepEqual(m.gp3IopsHigh, value('Volume iops of 80001 is too high; maximum is 80000.'));
    assert.deepEqual(m.io1IopsLow, value('Volume iops of 99 is too low; minimum is 100.'));
    assert.deepEqual(m.io1IopsHigh, value('Volume iops of 64001 is too high; maximum is 64000.'));
    assert.deepEqual(m.io2IopsHigh, value('Volume iops of 256001 is too high; maximum is 256000.'));
    assert.deepEqual(m.gp3Ratio, value('Iops to volume size ratio of 750.000000 is too high; maximum is 500'));
    assert.deepEqual(m.io1Ratio, value('Iops to volume size ratio of 50.100000 is too high; maximum is 50'));
    assert.deepEqual(m.toIo2Ratio, value('Iops to volume size ratio of 1000.250000 is too high; maximum is 1000'));
    assert.deepEqual(m.throughputLow, value('Volume throughput of 124 is too low; minimum is 125.'));
    assert.deepEqual(m.throughputHigh, value('Volume throughput of 2001 is too high; maximum is 2000.'));
    // The volume's kept 3,000 IOPS bound the throughput; a change to gp3 gets the default 3,000.
    assert.deepEqual(m.throughputRatio, value('Throughput (MiBps) to iops ratio of 0.333333 is too high; maximum is 0.250000 MiBps per iops'));
    assert.deepEqual(m.toGp3ThroughputRatio, value('Throughput (MiBps) to iops ratio of 0.333333 is too high; maximum is 0.250000 MiBps per iops'));
    assert.deepEqual(out.unchanged, [[4, 'gp2', 100, null], [20, 'gp3', 3000, 125], [10, 'io1', 500, null]]);
    assert.deepEqual(out.neverModified, ['InvalidVolumeModification.NotFound', 'InvalidVolumeModification.NotFound', 'InvalidVolumeModification.NotFound']);
  });

  it('ModifyVolume accepts the boundaries, keeps IOPS when the type is kept, gives gp3 its defaults and drops them for gp2', () => {
    const am = out.modifyAccepted;
    assert.deepEqual(am.gp3ThroughputRatio, [20, 'gp3', 3000, 750, [20, 'gp3', 3000, 750]]);
    assert.deepEqual(am.gp3Maximum, [160, 'gp3', 80000, 2000, [160, 'gp3', 80000, 2000]]);
    assert.deepEqual(am.gp2ToIo2Ratio, [4, 'io2', 4000, null, [4, 'io2', 4000, null]]);
    assert.deepEqual(am.io1Ratio, [20, 'io1', 1000, null, [20, 'io1', 1000, null]]);
    assert.deepEqual(am.io1KeepsIops, [11, 'io1', 500, null, [11, 'io1', 500, null]]);
    assert.deepEqual(am.io2Maximum, [256, 'io2', 256000, null, [256, 'io2', 256000, null]]);
    assert.deepEqual(am.gp2ToGp3Defaults, [1, 'gp3', 3000, 125, [1, 'gp3', 3000, 125]]);
    // ModifyVolume's default on a change to io1/io2/gp3: 3,000 IOPS (CreateVolume of io1/io2 still requires Iops).
    assert.deepEqual(am.gp2ToIo2Default, [4, 'io2', 3000, null, [4, 'io2', 3000, null]]);
    assert.deepEqual(am.gp3ToGp2Drops, [10, 'gp2', 100, null, [10, 'gp2', 100, null]]);
  });
});
