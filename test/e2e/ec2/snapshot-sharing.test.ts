// Sharing snapshots between accounts with boto3 (ModifySnapshotAttribute / DescribeSnapshotAttribute /
// ResetSnapshotAttribute, createVolumePermission): the other account sees a shared snapshot, makes volumes and
// copies of it (needing access to the CMK for an encrypted one), and reads the owner's data through the device.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CredentialStore } from '../../../src/core/identity/credentials.js';
import { createAccount } from '../../../src/core/identity/accounts.js';
import { boto3Unavailable, runBoto3 } from '../../helpers/boto3.js';
import { TEST_ACCOUNT, TestServer, startServer } from '../../helpers/server.js';
import { openDevice, readAll } from '../../helpers/volumes.js';

const OTHER = '444455556666';

const SETUP = String.raw`
ec2 = client('ec2')
kms = client('kms')
me, other = args['me'], args['other']
policy = lambda who: json.dumps({'Version': '2012-10-17', 'Statement': [
    {'Sid': 'owner', 'Effect': 'Allow', 'Principal': {'AWS': 'arn:aws:iam::%s:root' % me}, 'Action': 'kms:*', 'Resource': '*'},
    {'Sid': 'ebs-users', 'Effect': 'Allow', 'Principal': {'AWS': ['arn:aws:iam::%s:root' % a for a in who]},
     'Action': ['kms:Decrypt', 'kms:ReEncrypt*', 'kms:CreateGrant', 'kms:GenerateDataKey*', 'kms:DescribeKey'], 'Resource': '*'}]})
out['shared_cmk'] = kms.create_key(Policy=policy([me, other]))['KeyMetadata']['Arn']
out['private_cmk'] = kms.create_key(Policy=policy([me]))['KeyMetadata']['Arn']
def attached(**kw):
    v = ec2.create_volume(Size=1, AvailabilityZone='us-east-1a', **kw)['VolumeId']
    ec2.attach_volume(VolumeId=v, InstanceId='i-0123456789abcdef0', Device='/dev/sdf')
    return v
out['plain'] = attached()
out['cmk'] = attached(Encrypted=True, KmsKeyId=out['shared_cmk'])
out['private'] = attached(Encrypted=True, KmsKeyId=out['private_cmk'])
out['awsebs'] = attached(Encrypted=True)
`;

const SHARING = String.raw`
ec2 = client('ec2')
b = client('ec2', creds=(args['otherKey'], args['otherSecret']))
bkms = client('kms', creds=(args['otherKey'], args['otherSecret']))
me, other = args['me'], args['other']
snap = {k: ec2.create_snapshot(VolumeId=args[k])['SnapshotId'] for k in ('plain', 'cmk', 'private', 'awsebs')}
out['snap'] = snap
out['cmkSnapKey'] = ec2.describe_snapshots(SnapshotIds=[snap['cmk']])['Snapshots'][0].get('KmsKeyId')
attr = lambda s: ec2.describe_snapshot_attribute(SnapshotId=s, Attribute='createVolumePermission')['CreateVolumePermissions']
ids = lambda r: sorted(s['SnapshotId'] for s in r['Snapshots'])
vol = lambda client, s, **kw: client.create_volume(SnapshotId=s, AvailabilityZone='us-east-1a', **kw)['VolumeId']

# Not shared yet: the other account does not see it.
out['beforeDescribe'] = error_of(b.describe_snapshots, SnapshotIds=[snap['plain']])
out['beforeVolume'] = error_of(b.create_volume, SnapshotId=snap['plain'], AvailabilityZone='us-east-1a')
out['beforeAttr'] = attr(snap['plain'])
out['beforeOwnerList'] = ids(b.describe_snapshots(OwnerIds=[me]))

# Shared with the other account (CreateVolumePermission.Add), and with the legacy OperationType/UserId form.
ec2.modify_snapshot_attribute(SnapshotId=snap['plain'], Attribute='createVolumePermission', CreateVolumePermission={'Add': [{'UserId': other}]})
ec2.modify_snapshot_attribute(SnapshotId=snap['cmk'], Attribute='createVolumePermission', OperationType='add', UserIds=[other])
ec2.modify_snapshot_attribute(SnapshotId=snap['private'], CreateVolumePermission={'Add': [{'UserId': other}]})
out['attrShared'] = attr(snap['plain'])
out['bDefault'] = ids(b.describe_snapshots())
out['bByOwner'] = ids(b.describe_snapshots(OwnerIds=[me]))
out['bSelfOwned'] = ids(b.describe_snapshots(OwnerIds=['self']))
out['bRestorableSelf'] = ids(b.describe_snapshots(RestorableByUserIds=['self']))
out['aRestorableByOther'] = ids(ec2.describe_snapshots(OwnerIds=['self'], RestorableByUserIds=[other]))
out['bSeesOwner'] = b.describe_snapshots(SnapshotIds=[snap['plain']])['Snapshots'][0]['OwnerId']

# The other account makes volumes and copies of what is shared with it.
out['bPlainVolume'] = vol(b, snap['plain'])
out['bCmkVolume'] = vol(b, snap['cmk'])
out['bCmkVolumeKey'] = b.describe_volumes(VolumeIds=[out['bCmkVolume']])['Volumes'][0]['KmsKeyId']
own_cmk = bkms.create_key()['KeyMetadata']['Arn']
out['bOwnCmk'] = own_cmk
copy = b.copy_snapshot(SourceRegion='us-east-1', SourceSnapshotId=snap['cmk'], Encrypted=True, KmsKeyId=own_cmk)['SnapshotId']
out['bCopyOwner'] = b.describe_snapshots(SnapshotIds=[copy])['Snapshots'][0]['OwnerId']
out['bCopyKey'] = b.describe_snapshots(SnapshotIds=[copy])['Snapshots'][0]['KmsKeyId']
out['bCopyVolume'] = vol(b, copy)
for v in (out['bPlainVolume'], out['bCmkVolume'], out['bCopyVolume']):
    b.attach_volume(VolumeId=v, InstanceId='i-0fedcba9876543210', Device='/dev/sdg')
# Shared, but the CMK's key policy does not let the other account use it: refused by KMS.
out['bPrivateVolume'] = error_of(b.create_volume, SnapshotId=snap['private'], AvailabilityZone='us-east-1a')
out['bPrivateCopy'] = error_of(b.copy_snapshot, SourceRegion='us-east-1', SourceSnapshotId=snap['private'])
# Only the owner changes, deletes or reads the attribute of its snapshot.
out['bModify'] = error_of(b.modify_snapshot_attribute, SnapshotId=snap['plain'], CreateVolumePermission={'Add': [{'Group': 'all'}]})
out['bDescribeAttr'] = error_of(b.describe_snapshot_attribute, SnapshotId=snap['plain'], Attribute='createVolumePermission')
out['bDelete'] = error_of(b.delete_snapshot, SnapshotId=snap['plain'])

# AWS's rules: no public encrypted snapshot, no sharing of one under aws/ebs, one direction per call, valid ids.
out['publicEncrypted'] = error_of(ec2.modify_snapshot_attribute, SnapshotId=snap['cmk'], CreateVolumePermission={'Add': [{'Group': 'all'}]})
out['awsEbsShared'] = error_of(ec2.modify_snapshot_attribute, SnapshotId=snap['awsebs'], CreateVolumePermission={'Add': [{'UserId': other}]})
out['awsEbsAttr'] = attr(snap['awsebs'])
out['addAndRemove'] = error_of(ec2.modify_snapshot_attribute, SnapshotId=snap['plain'], CreateVolumePermission={'Add': [{'UserId': other}], 'Remove': [{'UserId': '777788889999'}]})
out['badUser'] = error_of(ec2.modify_snapshot_attribute, SnapshotId=snap['plain'], CreateVolumePermission={'Add': [{'UserId': 'someone'}]})
out['badAttribute'] = error_of(ec2.reset_snapshot_attribute, SnapshotId=snap['plain'], Attribute='productCodes')
out['productCodes'] = ec2.describe_snapshot_attribute(SnapshotId=snap['plain'], Attribute='productCodes').get('ProductCodes')

# Public (group all): any account may use it; RestorableBy all lists it.
ec2.modify_snapshot_attribute(SnapshotId=snap['plain'], OperationType='add', GroupNames=['all'])
out['attrPublic'] = attr(snap['plain'])
out['bRestorableAll'] = ids(b.describe_snapshots(RestorableByUserIds=['all']))

# Removed, then reset: the other account loses them (its volumes and copy stay its own).
ec2.modify_snapshot_attribute(SnapshotId=snap['cmk'], CreateVolumePermission={'Remove': [{'UserId': other}]})
out['afterRemove'] = error_of(b.create_volume, SnapshotId=snap['cmk'], AvailabilityZone='us-east-1a')
ec2.reset_snapshot_attribute(SnapshotId=snap['plain'], Attribute='createVolumePermission')
out['attrReset'] = attr(snap['plain'])
out['afterReset'] = error_of(b.describe_snapshots, SnapshotIds=[snap['plain']])
out['bDefaultAfter'] = ids(b.describe_snapshots())
out['copyStays'] = ids(b.describe_snapshots(SnapshotIds=[copy]))
out['copy'] = copy

# IAM: a user of the owner's account without ec2:ModifySnapshotAttribute on the snapshot is refused.
iam = client('iam')
iam.create_user(UserName='snapshot-reader')
iam.put_user_policy(UserName='snapshot-reader', PolicyName='read', PolicyDocument=json.dumps({'Version': '2012-10-17', 'Statement': [
    {'Effect': 'Allow', 'Action': ['ec2:DescribeSnapshotAttribute'], 'Resource': 'arn:aws:ec2:*::snapshot/*'}]}))
k = iam.create_access_key(UserName='snapshot-reader')['AccessKey']
u = client('ec2', creds=(k['AccessKeyId'], k['SecretAccessKey']))
import time
for _ in range(20):
    denied = error_of(u.modify_snapshot_attribute, SnapshotId=snap['plain'], CreateVolumePermission={'Add': [{'UserId': other}]})
    if denied is None or denied['code'] != 'AuthFailure':
        break
    time.sleep(0.2)
out['userModify'] = denied
out['userDescribe'] = u.describe_snapshot_attribute(SnapshotId=snap['plain'], Attribute='createVolumePermission')['CreateVolumePermissions']

# Every call is audited (CloudTrail, eventSource ec2.amazonaws.com), refusals included.
ct = client('cloudtrail')
events = lambda name: [json.loads(e['CloudTrailEvent']) for e in ct.lookup_events(LookupAttributes=[{'AttributeKey': 'EventName', 'AttributeValue': name}], MaxResults=50)['Events']]
out['audit'] = {name: sorted(set((e['eventSource'], e['userIdentity']['type'], e.get('errorCode', '')) for e in events(name)))
                for name in ('ModifySnapshotAttribute', 'DescribeSnapshotAttribute', 'ResetSnapshotAttribute')}
out['auditShare'] = [e['requestParameters'] for e in events('ModifySnapshotAttribute') if e.get('errorCode') is None and e['userIdentity']['type'] == 'Root'][-1]
`;

describe('sharing EC2 snapshots between accounts with boto3 (createVolumePermission)', { skip: boto3Unavailable() }, () => {
  let server: TestServer;
  let setup: Record<string, any>;
  let out: Record<string, any>;
  const pattern = randomBytes(5000);

  before(async () => {
    server = await startServer();
    const { store, root, clock } = server.app.kms.deps;
    const other = await createAccount(store, new CredentialStore(store, root), clock, OTHER);
    const args = { me: TEST_ACCOUNT, other: OTHER, otherKey: other.accessKeyId, otherSecret: other.secretAccessKey };
    setup = await runBoto3(server.url, SETUP, args);
    for (const v of [setup.plain, setup.cmk]) {
      const dev = await openDevice(server, v);
      await dev.write(12345, pattern, false);
      await dev.close();
    }
    out = await runBoto3(server.url, SHARING, { ...args, ...setup });
  });
  after(() => server?.destroy());

  it("snapshots a volume encrypted under a customer managed key (EBS's grant re-wraps the data key: ReEncryptFrom and ReEncryptTo)", () => {
    assert.equal(out.cmkSnapKey, setup.shared_cmk);
  });

  it('a snapshot not shared is invisible to another account; shared, it is listed (default, OwnerIds, RestorableByUserIds) with its owner', () => {
    assert.equal(out.beforeDescribe.code, 'InvalidSnapshot.NotFound');
    assert.equal(out.beforeVolume.code, 'InvalidSnapshot.NotFound');
    assert.deepEqual(out.beforeAttr, []);
    assert.deepEqual(out.beforeOwnerList, []);
    assert.deepEqual(out.attrShared, [{ UserId: OTHER }]);
    const shared = [out.snap.plain, out.snap.cmk, out.snap.private].sort();
    assert.deepEqual(out.bByOwner, shared);
    assert.ok(shared.every((s: string) => out.bDefault.includes(s)) && !out.bDefault.includes(out.snap.awsebs), 'default: own, shared with it, public');
    assert.deepEqual(out.bSelfOwned, []);
    assert.deepEqual(out.bRestorableSelf, shared);
    assert.deepEqual(out.aRestorableByOther, shared);
    assert.equal(out.bSeesOwner, TEST_ACCOUNT);
  });

  it('the other account makes volumes of shared snapshots (under the shared CMK) and copies them under its own CMK; the data reads back', async () => {
    assert.equal(out.bCmkVolumeKey, setup.shared_cmk);
    assert.equal(out.bCopyOwner, OTHER);
    assert.equal(out.bCopyKey, out.bOwnCmk);
    assert.deepEqual(out.copyStays, [out.copy]);
    for (const v of [out.bPlainVolume, out.bCmkVolume, out.bCopyVolume]) {
      const dev = await openDevice(server, v);
      assert.ok((await readAll(dev, 12345, pattern.length)).equals(pattern), v);
      await dev.close();
    }
  });

  it("a snapshot shared under a CMK whose key policy leaves the other account out gives it no volume or copy (KMS refuses, as on AWS)", () => {
    assert.equal(out.bPrivateVolume.code, 'UnauthorizedOperation');
    assert.match(out.bPrivateVolume.message, /kms:/);
    assert.equal(out.bPrivateCopy.code, 'UnauthorizedOperation');
  });

  it("only the owner modifies, reads or deletes; AWS's rules: no public encrypted snapshot, none under aws/ebs shared, one direction per call", () => {
    assert.equal(out.bModify.code, 'InvalidSnapshot.NotFound');
    assert.equal(out.bDescribeAttr.code, 'InvalidSnapshot.NotFound');
    assert.equal(out.bDelete.code, 'InvalidSnapshot.NotFound');
    assert.deepEqual(out.publicEncrypted, { code: 'OperationNotPermitted', message: 'Encrypted snapshots cannot be shared publicly.', status: 400 });
    assert.deepEqual(out.awsEbsShared, { code: 'OperationNotPermitted', message: 'Encrypted snapshots with EBS default key cannot be shared', status: 400 });
    assert.deepEqual(out.awsEbsAttr, []);
    assert.equal(out.addAndRemove.code, 'InvalidParameterCombination');
    assert.equal(out.badUser.code, 'InvalidAMIAttributeItemValue');
    assert.equal(out.badAttribute.code, 'InvalidParameterValue');
    assert.deepEqual(out.productCodes, []);
  });

  it('group all makes an unencrypted snapshot public; Remove and ResetSnapshotAttribute take the sharing back (volumes and copies made stay)', () => {
    assert.deepEqual(out.attrPublic, [{ Group: 'all' }, { UserId: OTHER }]);
    assert.ok(out.bRestorableAll.includes(out.snap.plain) && !out.bRestorableAll.includes(out.snap.cmk));
    assert.equal(out.afterRemove.code, 'InvalidSnapshot.NotFound');
    assert.deepEqual(out.attrReset, []);
    assert.equal(out.afterReset.code, 'InvalidSnapshot.NotFound');
    assert.ok(!out.bDefaultAfter.includes(out.snap.plain) && !out.bDefaultAfter.includes(out.snap.cmk));
    assert.ok(out.bDefaultAfter.includes(out.snap.private), 'still shared');
  });

  it('IAM: ec2:ModifySnapshotAttribute on the snapshot ARN (arn:aws:ec2:<region>::snapshot/…) is needed, DescribeSnapshotAttribute its own action', () => {
    assert.equal(out.userModify.code, 'UnauthorizedOperation');
    assert.equal(out.userModify.status, 403);
    assert.deepEqual(out.userDescribe, []);
  });

  it('every call is audited with eventSource ec2.amazonaws.com, refusals with their error code', () => {
    const ec2 = 'ec2.amazonaws.com';
    const modify = out.audit.ModifySnapshotAttribute as [string, string, string][];
    assert.ok(modify.some(([src, who, err]) => src === ec2 && who === 'Root' && err === ''), JSON.stringify(modify));
    assert.ok(modify.some(([, who, err]) => who === 'Root' && err === 'OperationNotPermitted'));
    assert.ok(modify.some(([, who, err]) => who === 'IAMUser' && err === 'UnauthorizedOperation'));
    assert.ok((out.audit.DescribeSnapshotAttribute as [string][]).some(([src]) => src === ec2));
    assert.ok((out.audit.ResetSnapshotAttribute as [string][]).some(([src]) => src === ec2));
    assert.match(JSON.stringify(out.auditShare), /snap-/);
  });
});
