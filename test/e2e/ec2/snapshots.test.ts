// Seed 002's worked example over the EC2 API (boto3) with the data moved through the BlockDevice the NBD server
// serves: an unencrypted volume's pattern survives snapshot → CopySnapshot encrypted under a CMK → volume from
// the copy, re-keying, a copy into another Region of the deployment, and copy-on-write after a snapshot.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CHUNK_BYTES } from '../../../src/core/volumes/chunks.js';
import { boto3Unavailable, runBoto3 } from '../../helpers/boto3.js';
import { TEST_ACCOUNT, TestServer, startServer } from '../../helpers/server.js';
import { openDevice, readAll } from '../../helpers/volumes.js';

const PATTERN_AT = [0, 5 * CHUNK_BYTES + 123, 700 * CHUNK_BYTES];

const SETUP = String.raw`
ec2 = client('ec2')
kms = client('kms')
out['k1'] = kms.create_key(Description='volumes')['KeyMetadata']['Arn']
out['k2'] = kms.create_key(Description='re-key')['KeyMetadata']['Arn']
v = ec2.create_volume(Size=1, AvailabilityZone='us-east-1a')
out['v'] = v['VolumeId']
out['vEncrypted'] = v['Encrypted']
ec2.attach_volume(VolumeId=v['VolumeId'], InstanceId='i-0123456789abcdef0', Device='/dev/sdf')
`;

const WALKTHROUGH = String.raw`
ec2 = client('ec2')
eu = client('ec2', region='eu-west-1')
v, k1, k2 = args['v'], args['k1'], args['k2']
s = ec2.create_snapshot(VolumeId=v, Description='plain', TagSpecifications=[{'ResourceType': 'snapshot', 'Tags': [{'Key': 'step', 'Value': '1'}]}])
out['s'] = s['SnapshotId']
out['sCreated'] = {k: s[k] for k in ('State', 'VolumeId', 'Encrypted', 'VolumeSize', 'OwnerId', 'Description')}
ec2.get_waiter('snapshot_completed').wait(SnapshotIds=[s['SnapshotId']], WaiterConfig={'Delay': 1, 'MaxAttempts': 5})
s2 = ec2.copy_snapshot(SourceRegion='us-east-1', SourceSnapshotId=s['SnapshotId'], Encrypted=True, KmsKeyId=k1, Description='encrypted copy')['SnapshotId']
out['s2'] = s2
d2 = ec2.describe_snapshots(SnapshotIds=[s2])['Snapshots'][0]
out['s2Described'] = {k: d2[k] for k in ('State', 'Encrypted', 'KmsKeyId', 'Description', 'Progress')}
out['mine'] = sorted(x['SnapshotId'] for x in ec2.describe_snapshots(OwnerIds=['self'])['Snapshots'])
out['encryptedOnes'] = [x['SnapshotId'] for x in ec2.describe_snapshots(Filters=[{'Name': 'encrypted', 'Values': ['true']}])['Snapshots']]
out['byTag'] = [x['SnapshotId'] for x in ec2.describe_snapshots(Filters=[{'Name': 'tag:step', 'Values': ['1']}])['Snapshots']]
out['othersOwn'] = ec2.describe_snapshots(OwnerIds=['444455556666'])['Snapshots']
w = ec2.create_volume(SnapshotId=s2, AvailabilityZone='us-east-1a')
out['w'] = {k: w.get(k) for k in ('VolumeId', 'Encrypted', 'KmsKeyId', 'SnapshotId', 'Size')}
wf = ec2.create_volume(SnapshotId=s2, AvailabilityZone='us-east-1a', Encrypted=False)
out['wf'] = {k: wf.get(k) for k in ('Encrypted', 'KmsKeyId')}
out['wfId'] = wf['VolumeId']
w2 = ec2.create_volume(SnapshotId=s2, AvailabilityZone='us-east-1a', Encrypted=True, KmsKeyId=k2)
out['w2'] = {k: w2.get(k) for k in ('VolumeId', 'Encrypted', 'KmsKeyId')}
out['tooSmall'] = error_of(ec2.create_volume, SnapshotId=s2, AvailabilityZone='us-east-1a', Size=0)
plainCopy = ec2.copy_snapshot(SourceRegion='us-east-1', SourceSnapshotId=s['SnapshotId'])['SnapshotId']
out['plainCopy'] = ec2.describe_snapshots(SnapshotIds=[plainCopy])['Snapshots'][0]['Encrypted']
x = eu.copy_snapshot(SourceRegion='us-east-1', SourceSnapshotId=s2, Encrypted=True, Description='to Ireland')['SnapshotId']
xd = eu.describe_snapshots(SnapshotIds=[x])['Snapshots'][0]
out['x'] = {'Encrypted': xd['Encrypted'], 'KmsKeyId': xd['KmsKeyId']}
out['euAlias'] = client('kms', region='eu-west-1').describe_key(KeyId='alias/aws/ebs')['KeyMetadata']['Arn']
out['xNotInUs'] = error_of(ec2.describe_snapshots, SnapshotIds=[x])
xv = eu.create_volume(SnapshotId=x, AvailabilityZone='eu-west-1b')
out['xv'] = xv['VolumeId']
for vol, e in ((w['VolumeId'], ec2), (w2['VolumeId'], ec2), (xv['VolumeId'], eu)):
    e.attach_volume(VolumeId=vol, InstanceId='i-0123456789abcdef1', Device='/dev/sdg')
out['missingVolume'] = error_of(ec2.create_snapshot, VolumeId='vol-0123456789abcdef0')
out['unservedRegion'] = error_of(client('ec2', region='ap-south-1').describe_volumes)
out['missingSource'] = error_of(ec2.copy_snapshot, SourceRegion='us-east-1', SourceSnapshotId='snap-0123456789abcdef0')
out['keyNoEncrypted'] = error_of(ec2.copy_snapshot, SourceRegion='us-east-1', SourceSnapshotId=s['SnapshotId'], KmsKeyId=k1)
ec2.delete_snapshot(SnapshotId=s2)
out['s2Gone'] = error_of(ec2.describe_snapshots, SnapshotIds=[s2])
`;

describe('EC2 snapshots with boto3: snapshot, CopySnapshot encrypted/re-keyed/cross-Region, volumes from snapshots, data through the BlockDevice', { skip: boto3Unavailable() }, () => {
  let server: TestServer;
  let setup: Record<string, any>;
  let out: Record<string, any>;
  const pattern = randomBytes(3000);
  const blobsOf = async (owner: string) => new Set((await server.app.volumes.store.chunks(owner)).map((c) => c.blobId));

  before(async () => {
    server = await startServer({ regions: 'us-east-1,eu-west-1' });
    setup = await runBoto3(server.url, SETUP);
    const dev = await openDevice(server, setup.v);
    for (const at of PATTERN_AT) await dev.write(at, pattern, false);
    await dev.close();
    out = await runBoto3(server.url, WALKTHROUGH, setup);
  });
  after(() => server.destroy());

  it('snapshots an unencrypted volume and copies it encrypted under a customer managed key', () => {
    assert.equal(setup.vEncrypted, false);
    assert.deepEqual(out.sCreated, { State: 'pending', VolumeId: setup.v, Encrypted: false, VolumeSize: 1, OwnerId: TEST_ACCOUNT, Description: 'plain' });
    assert.deepEqual(out.s2Described, { State: 'completed', Encrypted: true, KmsKeyId: setup.k1, Description: 'encrypted copy', Progress: '100%' });
    assert.ok(out.mine.includes(out.s) && out.mine.includes(out.s2));
    assert.deepEqual(out.encryptedOnes, [out.s2]);
    assert.deepEqual(out.byTag, [out.s]);
    assert.deepEqual(out.othersOwn, []);
    assert.equal(out.plainCopy, false);
  });

  it('an encrypted snapshot gives only encrypted volumes (Encrypted=false is overridden), under its key or re-keyed to another', () => {
    assert.deepEqual(out.w, { VolumeId: out.w.VolumeId, Encrypted: true, KmsKeyId: setup.k1, SnapshotId: out.s2, Size: 1 });
    assert.deepEqual(out.wf, { Encrypted: true, KmsKeyId: setup.k1 });
    assert.deepEqual(out.w2, { VolumeId: out.w2.VolumeId, Encrypted: true, KmsKeyId: setup.k2 });
    assert.equal(out.tooSmall.code, 'InvalidParameterValue');
  });

  it('copies into another Region of the deployment, encrypted under that Region\'s aws/ebs, and makes a volume there', () => {
    assert.deepEqual(out.x, { Encrypted: true, KmsKeyId: out.x.KmsKeyId });
    assert.match(out.x.KmsKeyId, /^arn:aws:kms:eu-west-1:111122223333:key\//);
    assert.match(out.euAlias, /^arn:aws:kms:eu-west-1:/);
    assert.equal(out.x.KmsKeyId, out.euAlias);
    assert.equal(out.xNotInUs.code, 'InvalidSnapshot.NotFound');
  });

  it('reads the pattern back through the BlockDevice of every volume made from the copies (also after the copy was deleted)', async () => {
    assert.equal(out.s2Gone.code, 'InvalidSnapshot.NotFound');
    for (const volumeId of [out.w.VolumeId, out.w2.VolumeId, out.xv]) {
      const dev = await openDevice(server, volumeId);
      for (const at of PATTERN_AT) assert.ok((await readAll(dev, at, pattern.length)).equals(pattern), `${volumeId} at ${at}`);
      assert.ok((await readAll(dev, 3 * CHUNK_BYTES, 4096)).equals(Buffer.alloc(4096)));
      await dev.close();
    }
  });

  it('shares chunks by reference under the same key, re-seals them under another data key', async () => {
    const original = await blobsOf(out.s);
    const w = await blobsOf(out.w.VolumeId);
    const w2 = await blobsOf(out.w2.VolumeId);
    assert.equal(w.size > 0 && w2.size > 0, true);
    assert.ok([...w2].every((b) => !w.has(b) && !original.has(b)), 're-keyed volume has chunks of its own');
    assert.ok([...w].every((b) => !original.has(b)), 'the encrypted copy re-sealed the unencrypted chunks');
    assert.deepEqual([...(await blobsOf(out.wfId))].sort(), [...w].sort(), 'two volumes of the copy under its key share its chunks');
  });

  it('copy-on-write: a block rewritten after a snapshot leaves the snapshot its old content', async () => {
    const dev = await openDevice(server, setup.v);
    await dev.write(0, Buffer.alloc(pattern.length, 7), true);
    await dev.close();
    const app = server.app;
    const { kmsForEc2 } = await import('../../../src/services/ec2/kms-bridge.js');
    const { rootRequest, SCOPE } = await import('../../helpers/volumes.js');
    const again = await app.volumes.createVolume(SCOPE, { availabilityZone: 'us-east-1a', snapshotId: out.s }, (r) => kmsForEc2(app.kmsClient, rootRequest(r), r));
    await app.volumes.attach(SCOPE, again.volumeId, 'i-0123456789abcdef2', '/dev/sdh');
    const fromSnapshot = await openDevice(server, again.volumeId);
    assert.ok((await readAll(fromSnapshot, 0, pattern.length)).equals(pattern));
    await fromSnapshot.close();
    const current = await openDevice(server, setup.v);
    assert.ok((await readAll(current, 0, pattern.length)).equals(Buffer.alloc(pattern.length, 7)));
    await current.close();
  });

  it('refuses snapshots of missing volumes, copies of missing snapshots, KmsKeyId without Encrypted, and Regions not served', () => {
    assert.equal(out.missingVolume.code, 'InvalidVolume.NotFound');
    assert.equal(out.missingSource.code, 'InvalidSnapshot.NotFound');
    assert.equal(out.keyNoEncrypted.code, 'InvalidParameterDependency');
    // EC2 is regional (unlike IAM and STS on the same protocol): a Region the deployment does not serve is refused.
    assert.equal(out.unservedRegion.status, 403);
    assert.match(out.unservedRegion.message, /'ap-south-1' is not served by this deployment/);
  });
});
