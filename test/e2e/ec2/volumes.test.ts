// The EC2 volume API with boto3 (one Python process per scenario) and raw signed requests for what boto3 will not send.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BotoError, boto3Unavailable, runBoto3 } from '../../helpers/boto3.js';
import { signedQueryRequest } from '../../helpers/query-request.js';
import { sendRaw } from '../../helpers/raw-request.js';
import { TEST_ACCOUNT, TestServer, startServer } from '../../helpers/server.js';

const SCENARIO = String.raw`
ec2 = client('ec2')
kms = client('kms')
az = 'us-east-1a'
spec = lambda kind, **tags: [{'ResourceType': kind, 'Tags': [{'Key': k, 'Value': v} for k, v in tags.items()]}]
made = [ec2.create_volume(Size=1 + i, AvailabilityZone=az, VolumeType='gp3', TagSpecifications=spec('volume', team='blue' if i % 2 else 'red', n=str(i))) for i in range(7)]
out['created'] = {k: made[0][k] for k in ('State', 'Encrypted', 'Size', 'VolumeType', 'SnapshotId', 'AvailabilityZone')}
out['createdTags'] = made[0]['Tags']
ids = sorted(v['VolumeId'] for v in made)
out['ids'] = ids
pages = []
token = None
while True:
    kw = {'MaxResults': 5, 'Filters': [{'Name': 'volume-type', 'Values': ['gp3']}]}
    if token: kw['NextToken'] = token
    r = ec2.describe_volumes(**kw)
    pages.append([v['VolumeId'] for v in r['Volumes']])
    token = r.get('NextToken')
    if not token: break
out['pages'] = pages
out['paginator'] = [v['VolumeId'] for p in ec2.get_paginator('describe_volumes').paginate(PaginationConfig={'PageSize': 5}) for v in p['Volumes']]
out['blue'] = sorted(v['VolumeId'] for v in ec2.describe_volumes(Filters=[{'Name': 'tag:team', 'Values': ['blue']}])['Volumes'])
out['wildcard'] = len(ec2.describe_volumes(Filters=[{'Name': 'tag:n', 'Values': ['[0-9]', '1*', '?']}])['Volumes'])
out['bigOnes'] = sorted(v['Size'] for v in ec2.describe_volumes(Filters=[{'Name': 'size', 'Values': ['6', '7']}, {'Name': 'status', 'Values': ['available']}])['Volumes'])
out['byIds'] = sorted(v['VolumeId'] for v in ec2.describe_volumes(VolumeIds=ids[:2])['Volumes'])
out['missing'] = error_of(ec2.describe_volumes, VolumeIds=[ids[0], 'vol-0123456789abcdef0'])
out['malformed'] = error_of(ec2.describe_volumes, VolumeIds=['volume-1'])
out['badFilter'] = error_of(ec2.describe_volumes, Filters=[{'Name': 'no-such-filter', 'Values': ['x']}])
out['tooSmallPage'] = error_of(ec2.describe_volumes, MaxResults=2)

v = ids[0]
ec2.create_tags(Resources=[v], Tags=[{'Key': 'env', 'Value': 'prod'}, {'Key': 'team', 'Value': 'green'}])
ec2.delete_tags(Resources=[v], Tags=[{'Key': 'n'}, {'Key': 'env', 'Value': 'not-this'}])
out['retagged'] = sorted((t['Key'], t['Value']) for t in ec2.describe_volumes(VolumeIds=[v])['Volumes'][0]['Tags'])
out['tagMissing'] = error_of(ec2.create_tags, Resources=['vol-0123456789abcdef0'], Tags=[{'Key': 'a', 'Value': 'b'}])

att = ec2.attach_volume(VolumeId=v, InstanceId='i-0123456789abcdef0', Device='/dev/sdf')
out['attach'] = {k: att[k] for k in ('State', 'InstanceId', 'Device', 'VolumeId')}
d = ec2.describe_volumes(VolumeIds=[v])['Volumes'][0]
out['attached'] = {'State': d['State'], 'Attachments': [{k: a[k] for k in ('InstanceId', 'Device', 'State')} for a in d['Attachments']]}
out['byInstance'] = [x['VolumeId'] for x in ec2.describe_volumes(Filters=[{'Name': 'attachment.instance-id', 'Values': ['i-0123456789abcdef0']}])['Volumes']]
out['attachTwice'] = error_of(ec2.attach_volume, VolumeId=v, InstanceId='i-0fedcba9876543210', Device='/dev/sdg')
out['deleteInUse'] = error_of(ec2.delete_volume, VolumeId=v)
out['detachOther'] = error_of(ec2.detach_volume, VolumeId=v, InstanceId='i-0fedcba9876543210')
out['detachOtherDevice'] = error_of(ec2.detach_volume, VolumeId=v, InstanceId='i-0123456789abcdef0', Device='/dev/sdz')
out['stillAttached'] = ec2.describe_volumes(VolumeIds=[v])['Volumes'][0]['State']
out['detach'] = ec2.detach_volume(VolumeId=v, InstanceId='i-0123456789abcdef0', Device='/dev/sdf')['State']
out['detachedState'] = ec2.describe_volumes(VolumeIds=[v])['Volumes'][0]['State']
out['detachAgain'] = error_of(ec2.detach_volume, VolumeId=v)
ec2.delete_volume(VolumeId=v)
out['deleted'] = error_of(ec2.describe_volumes, VolumeIds=[v])
out['deleteAgain'] = error_of(ec2.delete_volume, VolumeId=v)
out['dryRun'] = error_of(ec2.create_volume, Size=1, AvailabilityZone=az, DryRun=True)
out['badZone'] = error_of(ec2.create_volume, Size=1, AvailabilityZone='eu-west-1a')
out['tooBig'] = error_of(ec2.create_volume, Size=20000, AvailabilityZone=az)
out['noSize'] = error_of(ec2.create_volume, AvailabilityZone=az)
out['keyWithoutEncrypted'] = error_of(ec2.create_volume, Size=1, AvailabilityZone=az, KmsKeyId='alias/aws/ebs')

# Encryption by default and the default key: aws/ebs made on first use, then a customer key.
out['defaultBefore'] = ec2.get_ebs_encryption_by_default()['EbsEncryptionByDefault']
out['enable'] = ec2.enable_ebs_encryption_by_default()['EbsEncryptionByDefault']
out['defaultKey'] = ec2.get_ebs_default_kms_key_id()['KmsKeyId']
e = ec2.create_volume(Size=1, AvailabilityZone=az)
out['byDefault'] = {'Encrypted': e['Encrypted'], 'KmsKeyId': e.get('KmsKeyId')}
aliases = {a['AliasName']: a.get('TargetKeyId') for a in kms.list_aliases()['Aliases']}
out['awsEbsTarget'] = aliases.get('alias/aws/ebs')
out['awsEbsManager'] = kms.describe_key(KeyId='alias/aws/ebs')['KeyMetadata']['KeyManager']
cmk = kms.create_key()['KeyMetadata']['Arn']
out['cmk'] = cmk
out['modify'] = ec2.modify_ebs_default_kms_key_id(KmsKeyId=cmk)['KmsKeyId']
out['byCmk'] = ec2.create_volume(Size=1, AvailabilityZone=az).get('KmsKeyId')
out['encryptedFilter'] = sorted(x['VolumeId'] for x in ec2.describe_volumes(Filters=[{'Name': 'encrypted', 'Values': ['true']}])['Volumes']) == sorted([e['VolumeId'], ec2.describe_volumes(Filters=[{'Name': 'kms-key-id', 'Values': [cmk]}])['Volumes'][0]['VolumeId']])
out['reset'] = ec2.reset_ebs_default_kms_key_id()['KmsKeyId']
out['disable'] = ec2.disable_ebs_encryption_by_default()['EbsEncryptionByDefault']
out['plainAgain'] = ec2.create_volume(Size=1, AvailabilityZone=az)['Encrypted']
`;

describe('EC2 volumes over HTTP with boto3: create, describe (filters, paging), tags, attach, delete, encryption by default', { skip: boto3Unavailable() }, () => {
  let server: TestServer;
  let out: Record<string, any>;

  before(async () => {
    server = await startServer();
    out = await runBoto3(server.url, SCENARIO);
  });
  after(() => server.destroy());

  it('creates volumes as EC2 answers them and pages DescribeVolumes with MaxResults/NextToken', () => {
    assert.deepEqual(out.created, { State: 'creating', Encrypted: false, Size: 1, VolumeType: 'gp3', SnapshotId: '', AvailabilityZone: 'us-east-1a' });
    assert.deepEqual(out.createdTags.map((t: { Key: string }) => t.Key).sort(), ['n', 'team']);
    for (const id of out.ids) assert.match(id, /^vol-[0-9a-f]{17}$/);
    assert.deepEqual(out.pages.map((p: string[]) => p.length), [5, 2]);
    assert.deepEqual(out.pages.flat(), out.ids);
    assert.deepEqual(out.paginator, out.ids);
    assert.equal((out.tooSmallPage as BotoError).code, 'InvalidParameterValue');
  });

  it('filters by tag (with wildcards), size and status, and by ids; unknown ids and filters are refused as EC2 does', () => {
    assert.equal(out.blue.length, 3);
    assert.equal(out.wildcard, 7);
    assert.deepEqual(out.bigOnes, [6, 7]);
    assert.deepEqual(out.byIds, out.ids.slice(0, 2));
    assert.deepEqual(out.missing, { code: 'InvalidVolume.NotFound', message: "The volume 'vol-0123456789abcdef0' does not exist.", status: 400 });
    assert.equal(out.malformed.code, 'InvalidVolumeID.Malformed');
    assert.equal(out.badFilter.code, 'InvalidParameterValue');
  });

  it('tags volumes (CreateTags/DeleteTags, a value given deletes only a match)', () => {
    assert.deepEqual(out.retagged, [['env', 'prod'], ['team', 'green']]);
    assert.equal(out.tagMissing.code, 'InvalidVolume.NotFound');
  });

  it('attaches to any i-… id, refuses a second attach, deleting an attached volume and detaching from another instance', () => {
    assert.deepEqual(out.attach, { State: 'attaching', InstanceId: 'i-0123456789abcdef0', Device: '/dev/sdf', VolumeId: out.ids[0] });
    assert.deepEqual(out.attached, { State: 'in-use', Attachments: [{ InstanceId: 'i-0123456789abcdef0', Device: '/dev/sdf', State: 'attached' }] });
    assert.deepEqual(out.byInstance, [out.ids[0]]);
    assert.equal(out.attachTwice.code, 'VolumeInUse');
    assert.equal(out.deleteInUse.code, 'VolumeInUse');
    // Another instance (or device) than the attachment's: EC2's InvalidAttachment.NotFound, and nothing changes.
    assert.equal(out.detachOther.code, 'InvalidAttachment.NotFound');
    assert.equal(out.detachOther.status, 400);
    assert.match(out.detachOther.message, /is not attached to instance 'i-0fedcba9876543210'/);
    assert.equal(out.detachOtherDevice.code, 'InvalidAttachment.NotFound');
    assert.equal(out.stillAttached, 'in-use');
    assert.equal(out.detachedState, 'available');
    assert.equal(out.detachAgain.code, 'IncorrectState');
    assert.match(out.detachAgain.message, /is in the 'available' state/);
    assert.equal(out.detach, 'detaching');
    assert.equal(out.deleted.code, 'InvalidVolume.NotFound');
    assert.equal(out.deleteAgain.code, 'InvalidVolume.NotFound');
  });

  it("answers EC2's errors for DryRun, zones, sizes and KmsKeyId without Encrypted", () => {
    assert.deepEqual(out.dryRun, { code: 'DryRunOperation', message: 'Request would have succeeded, but DryRun flag is set.', status: 412 });
    assert.equal(out.badZone.code, 'InvalidZone.NotFound');
    assert.equal(out.tooBig.code, 'InvalidParameterValue');
    assert.equal(out.noSize.code, 'MissingParameter');
    assert.equal(out.keyWithoutEncrypted.code, 'InvalidParameterDependency');
  });

  it('encryption by default: new volumes encrypted under aws/ebs (an AWS managed key made on first use), then under the default key set', () => {
    assert.equal(out.defaultBefore, false);
    assert.equal(out.enable, true);
    assert.equal(out.defaultKey, `arn:aws:kms:us-east-1:${TEST_ACCOUNT}:alias/aws/ebs`);
    assert.equal(out.byDefault.Encrypted, true);
    assert.equal(out.byDefault.KmsKeyId, `arn:aws:kms:us-east-1:${TEST_ACCOUNT}:key/${out.awsEbsTarget}`);
    assert.equal(out.awsEbsManager, 'AWS');
    assert.equal(out.modify, out.cmk);
    assert.equal(out.byCmk, out.cmk);
    assert.equal(out.encryptedFilter, true);
    assert.equal(out.reset, `arn:aws:kms:us-east-1:${TEST_ACCOUNT}:alias/aws/ebs`);
    assert.equal(out.disable, false);
    assert.equal(out.plainAgain, false);
  });

  it("answers malformed requests in EC2's error XML (Response/Errors/Error, RequestID): unknown action, bad boolean, missing parameter", async () => {
    const post = async (body: string) => sendRaw(server.url, await signedQueryRequest(server.url, Object.fromEntries(new URLSearchParams(body)), { service: 'ec2' }));
    const unknown = await post('Action=RunInstances&Version=2016-11-15');
    assert.equal(unknown.status, 400);
    assert.match(unknown.text, /^<Response><Errors><Error><Code>InvalidAction<\/Code><Message>[^<]+<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/);
    const badBool = await post('Action=CreateVolume&Version=2016-11-15&Size=1&AvailabilityZone=us-east-1a&Encrypted=yes');
    assert.equal(badBool.status, 400);
    assert.match(badBool.text, /<Code>InvalidParameterValue<\/Code>/);
    const missing = await post('Action=DeleteVolume&Version=2016-11-15');
    assert.match(missing.text, /<Code>MissingParameter<\/Code><Message>The request must contain the parameter VolumeId<\/Message>/);
    const ok = await post('Action=GetEbsEncryptionByDefault&Version=2016-11-15');
    assert.equal(ok.status, 200);
    assert.match(ok.text, /^<GetEbsEncryptionByDefaultResponse xmlns="http:\/\/ec2.amazonaws.com\/doc\/2016-11-15\/"><requestId>[0-9a-f-]{36}<\/requestId><ebsEncryptionByDefault>false<\/ebsEncryptionByDefault>/);
    const del = await post('Action=DeleteTags&Version=2016-11-15&ResourceId.1=vol-0123456789abcdef0');
    assert.match(del.text, /<Code>InvalidVolume.NotFound<\/Code>/);
  });

  it('is regional: a deployment serving only eu-west-1 refuses EC2 signed for us-east-1, while IAM (global) is answered there', async () => {
    const eu = await startServer({ region: 'eu-west-1', regions: 'eu-west-1' });
    try {
      const ec2Us = await sendRaw(eu.url, await signedQueryRequest(eu.url, { Action: 'DescribeVolumes', Version: '2016-11-15' }, { service: 'ec2', region: 'us-east-1' }));
      assert.equal(ec2Us.status, 403);
      assert.match(ec2Us.text, /<Response><Errors><Error><Code>SignatureDoesNotMatch<\/Code><Message>Credential should be scoped to a valid region. &apos;us-east-1&apos; is not served/);
      const ec2Eu = await sendRaw(eu.url, await signedQueryRequest(eu.url, { Action: 'DescribeVolumes', Version: '2016-11-15' }, { service: 'ec2', region: 'eu-west-1' }));
      assert.equal(ec2Eu.status, 200);
      const iamUs = await sendRaw(eu.url, await signedQueryRequest(eu.url, { Action: 'ListUsers', Version: '2010-05-08' }, { service: 'iam', region: 'us-east-1' }));
      assert.equal(iamUs.status, 200);
    } finally {
      await eu.destroy();
    }
  });
});
