// EBS calls KMS as the caller via EC2 (kms:ViaService = ec2.<region>.amazonaws.com): a user lacking
// kms:CreateGrant or kms:GenerateDataKeyWithoutPlaintext on the CMK is refused as on AWS; a disabled CMK makes
// attaching fail; every call is audited with eventSource ec2.amazonaws.com and EBS's own KMS calls as AWSService.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { boto3Unavailable, runBoto3 } from '../../helpers/boto3.js';
import { TestServer, startServer } from '../../helpers/server.js';

const SCENARIO = String.raw`
import time
iam = client('iam')
kms = client('kms')
ec2 = client('ec2')
key = kms.create_key(Description='ebs cmk')['KeyMetadata']['Arn']
def user(name, statements):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName='p', PolicyDocument=json.dumps({'Version': '2012-10-17', 'Statement': statements}))
    k = iam.create_access_key(UserName=name)['AccessKey']
    return (k['AccessKeyId'], k['SecretAccessKey'])
allow = lambda actions, **extra: dict({'Effect': 'Allow', 'Action': actions, 'Resource': '*'}, **extra)
users = {
    'noGrant': user('no-grant', [allow(['ec2:*', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:Decrypt', 'kms:DescribeKey'])]),
    'noDataKey': user('no-data-key', [allow(['ec2:*', 'kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey'])]),
    'full': user('full', [allow(['ec2:*', 'kms:CreateGrant', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:DescribeKey'])]),
    'noEc2': user('no-ec2', [allow(['kms:*'])]),
    'viaEc2Only': user('via-ec2-only', [allow(['ec2:*']), allow(['kms:*'], Condition={'StringEquals': {'kms:ViaService': 'ec2.us-east-1.amazonaws.com'}})]),
    'noSnapshotDelete': user('no-snapshot-delete', [allow(['ec2:*']), {'Effect': 'Deny', 'Action': 'ec2:DeleteSnapshot', 'Resource': 'arn:aws:ec2:*:*:snapshot/*'}]),
}
time.sleep(0.2)
for name, creds in users.items():
    e = client('ec2', creds=creds)
    out[name] = error_of(e.create_volume, Size=1, AvailabilityZone='us-east-1a', Encrypted=True, KmsKeyId=key)
out['volumesLeft'] = len(ec2.describe_volumes()['Volumes'])
out['directDataKey'] = error_of(client('kms', creds=users['viaEc2Only']).generate_data_key_without_plaintext, KeyId=key, KeySpec='AES_256')
plain = ec2.create_volume(Size=1, AvailabilityZone='us-east-1a')['VolumeId']
snap = ec2.create_snapshot(VolumeId=plain)['SnapshotId']
out['denyDelete'] = error_of(client('ec2', creds=users['noSnapshotDelete']).delete_snapshot, SnapshotId=snap)
out['denyDeleteDryRun'] = error_of(client('ec2', creds=users['full']).delete_snapshot, SnapshotId=snap, DryRun=True)

# The grant EBS holds, and a disabled CMK.
vol = ec2.create_volume(Size=1, AvailabilityZone='us-east-1a', Encrypted=True, KmsKeyId=key)['VolumeId']
grants = kms.list_grants(KeyId=key)['Grants']
out['grants'] = [{'GranteePrincipal': g['GranteePrincipal'], 'Operations': sorted(g['Operations'])} for g in grants]
kms.disable_key(KeyId=key)
out['attachDisabled'] = error_of(ec2.attach_volume, VolumeId=vol, InstanceId='i-0123456789abcdef0', Device='/dev/sdf')
out['createDisabled'] = error_of(ec2.create_volume, Size=1, AvailabilityZone='us-east-1a', Encrypted=True, KmsKeyId=key)
out['snapshotDisabled'] = error_of(ec2.create_snapshot, VolumeId=vol)
kms.enable_key(KeyId=key)
out['attachEnabled'] = ec2.attach_volume(VolumeId=vol, InstanceId='i-0123456789abcdef0', Device='/dev/sdf')['State']
ec2.detach_volume(VolumeId=vol)
ec2.delete_volume(VolumeId=vol)
out['grantsAfterDelete'] = len(kms.list_grants(KeyId=key)['Grants'])

ct = client('cloudtrail')
events = [json.loads(e['CloudTrailEvent']) for e in ct.lookup_events(LookupAttributes=[{'AttributeKey': 'EventSource', 'AttributeValue': 'ec2.amazonaws.com'}], MaxResults=50)['Events']]
out['ec2Events'] = sorted(set(e['eventName'] for e in events))
out['deniedRecorded'] = any(e['eventName'] == 'CreateVolume' and e.get('errorCode') == 'UnauthorizedOperation' for e in events)
kmsEvents = [json.loads(e['CloudTrailEvent']) for e in ct.lookup_events(LookupAttributes=[{'AttributeKey': 'EventSource', 'AttributeValue': 'kms.amazonaws.com'}], MaxResults=50)['Events']]
out['viaEc2'] = sorted(set(e['eventName'] for e in kmsEvents if e['userIdentity'].get('invokedBy', '').startswith('ec2.') and e['userIdentity']['type'] != 'AWSService'))
out['asEbs'] = sorted(set(e['eventName'] for e in kmsEvents if e['userIdentity']['type'] == 'AWSService' and e['userIdentity'].get('invokedBy') == 'ec2.amazonaws.com'))
out['contexts'] = sorted(set(k for e in kmsEvents for k in ((e.get('requestParameters') or {}).get('encryptionContext') or {}).keys()))
`;

describe('EC2 volumes and KMS: the caller\'s KMS permissions via EC2, EBS\'s grant, disabled CMKs, audit', { skip: boto3Unavailable() }, () => {
  let server: TestServer;
  let out: Record<string, any>;

  before(async () => {
    server = await startServer();
    out = await runBoto3(server.url, SCENARIO);
  });
  after(() => server.destroy());

  it('refuses CreateVolume under a CMK to a user without kms:CreateGrant or kms:GenerateDataKeyWithoutPlaintext (UnauthorizedOperation), leaving no volume', () => {
    assert.equal(out.noGrant.code, 'UnauthorizedOperation');
    assert.equal(out.noGrant.status, 403);
    assert.match(out.noGrant.message, /kms:CreateGrant/);
    assert.equal(out.noDataKey.code, 'UnauthorizedOperation');
    assert.match(out.noDataKey.message, /kms:GenerateDataKeyWithoutPlaintext/);
    assert.equal(out.noEc2.code, 'UnauthorizedOperation');
    assert.match(out.noEc2.message, /ec2:CreateVolume on resource: arn:aws:ec2:us-east-1:111122223333:volume\/\*/);
    assert.equal(out.full, null);
    assert.equal(out.volumesLeft, 2, 'only the volumes of "full" and "viaEc2Only"');
  });

  it('a key usable only through EC2 (kms:ViaService) makes volumes but refuses the same call made directly', () => {
    assert.equal(out.viaEc2Only, null);
    assert.equal(out.directDataKey.code, 'AccessDeniedException');
  });

  it('decides ec2:<Action> on the snapshot ARN (an explicit Deny wins; DryRun answers DryRunOperation when allowed)', () => {
    assert.equal(out.denyDelete.code, 'UnauthorizedOperation');
    assert.match(out.denyDelete.message, /explicit deny/);
    assert.equal(out.denyDeleteDryRun.code, 'DryRunOperation');
  });

  it('grants EBS (ec2.amazonaws.com) the use of the CMK at creation and retires it when the volume is deleted', () => {
    // One per volume under the key: the two the users made, and the one deleted afterwards.
    const grant = { GranteePrincipal: 'ec2.amazonaws.com', Operations: ['Decrypt', 'DescribeKey', 'ReEncryptFrom', 'ReEncryptTo', 'RetireGrant'] };
    assert.deepEqual(out.grants, [grant, grant, grant]);
    assert.equal(out.grantsAfterDelete, 2);
  });

  it('a disabled CMK makes AttachVolume, CreateVolume and CreateSnapshot fail; enabled again, the volume attaches', () => {
    assert.equal(out.attachDisabled.code, 'InvalidKMSKey.InvalidState');
    assert.equal(out.createDisabled.code, 'InvalidKMSKey.InvalidState');
    assert.equal(out.snapshotDisabled.code, 'InvalidKMSKey.InvalidState');
    assert.equal(out.attachEnabled, 'attaching');
  });

  it('audits every EC2 call (denied ones too) with eventSource ec2.amazonaws.com, KMS calls via EC2 as the caller and EBS\'s own as AWSService', () => {
    for (const name of ['CreateVolume', 'DescribeVolumes', 'CreateSnapshot', 'AttachVolume', 'DetachVolume', 'DeleteVolume', 'DeleteSnapshot']) assert.ok(out.ec2Events.includes(name), name);
    assert.equal(out.deniedRecorded, true);
    assert.ok(out.viaEc2.includes('GenerateDataKeyWithoutPlaintext') && out.viaEc2.includes('CreateGrant'), String(out.viaEc2));
    assert.ok(out.asEbs.includes('Decrypt') && out.asEbs.includes('RetireGrant'), String(out.asEbs));
    assert.ok(out.contexts.includes('aws:ebs:id'));
  });
});
