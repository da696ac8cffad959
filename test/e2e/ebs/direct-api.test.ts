// The EBS direct APIs (REST-JSON, SigV4 service ebs) with boto3 and the aws CLI: blocks written with SHA-256
// checksums, completed with the LINEAR aggregate, listed, diffed between snapshots and read back; the same
// snapshots as EC2 describes them (volumes made of them, snapshots of volumes written through the BlockDevice);
// AWS's errors for bad checksums and sizes, unknown snapshots, IAM and KMS denials; every call audited.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { boto3Unavailable, runBoto3 } from '../../helpers/boto3.js';
import { SCOPE, attachedVolume, openDevice } from '../../helpers/volumes.js';
import { nbdToolsMissing } from '../../helpers/nbd-tools.js';
import { TEST_CREDENTIALS, TEST_REGION, TestServer, startServer } from '../../helpers/server.js';
import { SignatureV4 } from '@smithy/signature-v4';
import { ManualClock } from '../../../src/core/clock.js';
import { Sha256 } from '../../helpers/raw-request.js';

const BLOCK = 512 * 1024;
/** A 512 KiB block every byte of which depends on `seed` and its position. */
function pattern(seed: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK; i += 32) createHash('sha256').update(`${seed}:${i}`).digest().copy(b, i);
  return b;
}

const SCENARIO = String.raw`
import hashlib, base64, time
ebs = client('ebs'); ec2 = client('ec2'); kms = client('kms'); iam = client('iam')
B = 512 * 1024
def pattern(seed):
    return b''.join(hashlib.sha256(('%d:%d' % (seed, i)).encode()).digest() for i in range(0, B, 32))
b64 = lambda d: base64.b64encode(d).decode()
def put(e, snap, i, data, checksum=None, length=None):
    return e.put_snapshot_block(SnapshotId=snap, BlockIndex=i, BlockData=data, DataLength=length if length is not None else len(data),
                                Checksum=checksum or b64(hashlib.sha256(data).digest()), ChecksumAlgorithm='SHA256')
def read(e, snap, i, token):
    r = e.get_snapshot_block(SnapshotId=snap, BlockIndex=i, BlockToken=token)
    data = r['BlockData'].read()
    return {'data': hashlib.sha256(data).hexdigest(), 'length': r['DataLength'], 'checksumOk': r['Checksum'] == b64(hashlib.sha256(data).digest()), 'algorithm': r['ChecksumAlgorithm']}
tokens = lambda snap: {b['BlockIndex']: b['BlockToken'] for b in ebs.list_snapshot_blocks(SnapshotId=snap)['Blocks']}
hexof = lambda seed: hashlib.sha256(pattern(seed)).hexdigest()
def fails(fn, *a, **kw):
    return error_of(lambda: fn(*a, **kw))

# Write three blocks, complete with the LINEAR checksum, list and read back.
tags = [{'Key': 'team', 'Value': 'storage'}]
s = ebs.start_snapshot(VolumeSize=1, Description='direct', Tags=tags, ClientToken='token-1', Timeout=60)
out['start'] = {k: s.get(k) for k in ('Status', 'VolumeSize', 'BlockSize', 'SseType', 'Tags', 'Description', 'OwnerId')}
s1 = s['SnapshotId']
out['retrySameId'] = ebs.start_snapshot(VolumeSize=1, Description='direct', Tags=tags, ClientToken='token-1', Timeout=60)['SnapshotId'] == s1
out['tokenConflict'] = error_of(ebs.start_snapshot, VolumeSize=2, ClientToken='token-1')
written = {0: 10, 5: 15, 100: 110}
for i, seed in written.items():
    r = put(ebs, s1, i, pattern(seed))
out['putEcho'] = r['Checksum'] == b64(hashlib.sha256(pattern(110)).digest()) and r['ChecksumAlgorithm'] == 'SHA256'
out['pendingDescribed'] = ec2.describe_snapshots(SnapshotIds=[s1])['Snapshots'][0]['State']
out['volumeOfPending'] = error_of(ec2.create_volume, SnapshotId=s1, AvailabilityZone='us-east-1a')
out['copyOfPending'] = error_of(ec2.copy_snapshot, SourceSnapshotId=s1, SourceRegion='us-east-1')
out['wrongChecksum'] = fails(put, ebs, s1, 1, pattern(1), checksum=b64(hashlib.sha256(b'other').digest()))
out['wrongSize'] = fails(put, ebs, s1, 1, b'x' * 4096)
out['beyondEnd'] = fails(put, ebs, s1, 2048, pattern(1))
out['tooLarge'] = fails(put, ebs, s1, 1, b'y' * (B + 1))
out['wrongCount'] = error_of(ebs.complete_snapshot, SnapshotId=s1, ChangedBlocksCount=2)
linear = b64(hashlib.sha256(b''.join(hashlib.sha256(pattern(written[i])).digest() for i in sorted(written))).digest())
out['wrongAggregate'] = error_of(ebs.complete_snapshot, SnapshotId=s1, ChangedBlocksCount=3, Checksum=b64(hashlib.sha256(b'x').digest()), ChecksumAlgorithm='SHA256', ChecksumAggregationMethod='LINEAR')
out['complete'] = ebs.complete_snapshot(SnapshotId=s1, ChangedBlocksCount=3, Checksum=linear, ChecksumAlgorithm='SHA256', ChecksumAggregationMethod='LINEAR')['Status']
out['putAfterComplete'] = fails(put, ebs, s1, 1, pattern(1))
d = ec2.describe_snapshots(SnapshotIds=[s1])['Snapshots'][0]
out['described'] = {'State': d['State'], 'VolumeSize': d['VolumeSize'], 'Encrypted': d['Encrypted'], 'Description': d['Description'], 'Tags': d.get('Tags')}
l = ebs.list_snapshot_blocks(SnapshotId=s1)
out['listed'] = {'blocks': [b['BlockIndex'] for b in l['Blocks']], 'VolumeSize': l['VolumeSize'], 'BlockSize': l['BlockSize']}
out['listedFrom1'] = [b['BlockIndex'] for b in ebs.list_snapshot_blocks(SnapshotId=s1, StartingBlockIndex=1)['Blocks']]
t1 = tokens(s1)
out['read5'] = read(ebs, s1, 5, t1[5]); out['expect15'] = hexof(15)
out['badToken'] = error_of(ebs.get_snapshot_block, SnapshotId=s1, BlockIndex=5, BlockToken=t1[0])

# A child snapshot started from s1: blocks shared, two written; the changed blocks between them.
s2 = ebs.start_snapshot(VolumeSize=1, ParentSnapshotId=s1)['SnapshotId']
put(ebs, s2, 5, pattern(25)); put(ebs, s2, 7, pattern(27))
ebs.complete_snapshot(SnapshotId=s2, ChangedBlocksCount=2)
c = ebs.list_changed_blocks(FirstSnapshotId=s1, SecondSnapshotId=s2)
out['changed'] = [[x['BlockIndex'], 'FirstBlockToken' in x, 'SecondBlockToken' in x] for x in c['ChangedBlocks']]
out['childBlocks'] = sorted(tokens(s2))
out['childShared0'] = read(ebs, s2, 0, tokens(s2)[0])['data'] == hexof(10)
out['childNew5'] = read(ebs, s2, 5, c['ChangedBlocks'][0]['SecondBlockToken'])['data'] == hexof(25)
out['firstOld5'] = read(ebs, s1, 5, c['ChangedBlocks'][0]['FirstBlockToken'])['data'] == hexof(15)
out['allOfSecond'] = [x['BlockIndex'] for x in ebs.list_changed_blocks(SecondSnapshotId=s2)['ChangedBlocks']]
out['unknown'] = error_of(ebs.list_snapshot_blocks, SnapshotId='snap-0123456789abcdef0')
out['unknownPut'] = fails(put, ebs, 'snap-0123456789abcdef0', 0, pattern(1))
out['malformedPage'] = error_of(ebs.list_snapshot_blocks, SnapshotId=s1, NextToken='bm9wZQ==')

# EC2 makes a volume of the direct snapshot (read back through the BlockDevice by the test).
out['volumeFromDirect'] = ec2.create_volume(SnapshotId=s1, AvailabilityZone='us-east-1a')['VolumeId']

# Snapshots of a volume written through the BlockDevice: blocks readable, exactly the changed blocks listed.
a, b = args['volSnapA'], args['volSnapB']
ta, tb = tokens(a), tokens(b)
out['volBlocksA'] = sorted(ta); out['volBlocksB'] = sorted(tb)
out['volRead3'] = read(ebs, a, 3, ta[3])['data']
out['volRead3After'] = read(ebs, b, 3, tb[3])['data']
out['volChanged'] = [x['BlockIndex'] for x in ebs.list_changed_blocks(FirstSnapshotId=a, SecondSnapshotId=b)['ChangedBlocks']]
p1 = ebs.list_snapshot_blocks(SnapshotId=args['manySnap'], MaxResults=100)
p2 = ebs.list_snapshot_blocks(SnapshotId=args['manySnap'], MaxResults=100, NextToken=p1['NextToken'])
out['pages'] = [len(p1['Blocks']), [b['BlockIndex'] for b in p2['Blocks']], 'NextToken' in p2]
c1 = ebs.list_changed_blocks(SecondSnapshotId=args['manySnap'], MaxResults=100)
c2 = ebs.list_changed_blocks(SecondSnapshotId=args['manySnap'], MaxResults=100, NextToken=c1['NextToken'])
c3 = ebs.list_changed_blocks(SecondSnapshotId=args['manySnap'], MaxResults=100, StartingBlockIndex=150)
out['changedPages'] = [len(c1['ChangedBlocks']), [x['BlockIndex'] for x in c2['ChangedBlocks']], c3['ChangedBlocks'][0]['BlockIndex'], len(c3['ChangedBlocks'])]
out['unrelated'] = error_of(ebs.list_changed_blocks, FirstSnapshotId=s1, SecondSnapshotId=a)

# Encrypted under a CMK: KMS as the caller; blocks read back; EC2 volumes of it stay under the CMK.
key = kms.create_key(Description='ebs direct')['KeyMetadata']['Arn']
e = ebs.start_snapshot(VolumeSize=1, Encrypted=True, KmsKeyArn=key)
out['encStart'] = {'SseType': e['SseType'], 'KmsKeyArn': e.get('KmsKeyArn') == key}
put(ebs, e['SnapshotId'], 2, pattern(42))
ebs.complete_snapshot(SnapshotId=e['SnapshotId'], ChangedBlocksCount=1)
out['encRead'] = read(ebs, e['SnapshotId'], 2, tokens(e['SnapshotId'])[2])['data'] == hexof(42)
ed = ec2.describe_snapshots(SnapshotIds=[e['SnapshotId']])['Snapshots'][0]
out['encDescribed'] = [ed['Encrypted'], ed.get('KmsKeyId') == key]
ev = ec2.describe_volumes(VolumeIds=[ec2.create_volume(SnapshotId=e['SnapshotId'], AvailabilityZone='us-east-1a')['VolumeId']])['Volumes'][0]
out['encVolume'] = [ev['Encrypted'], ev.get('KmsKeyId') == key]

# IAM and KMS denials.
def user(name, statements):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName='p', PolicyDocument=json.dumps({'Version': '2012-10-17', 'Statement': statements}))
    k = iam.create_access_key(UserName=name)['AccessKey']
    return (k['AccessKeyId'], k['SecretAccessKey'])
reader = client('ebs', creds=user('reader', [{'Effect': 'Allow', 'Action': ['ebs:ListSnapshotBlocks', 'ebs:GetSnapshotBlock'], 'Resource': '*'},
                                               {'Effect': 'Deny', 'Action': 'ebs:*', 'Resource': 'arn:aws:ec2:*::snapshot/' + s2}]))
noKms = client('ebs', creds=user('no-kms', [{'Effect': 'Allow', 'Action': 'ebs:*', 'Resource': '*'}]))
time.sleep(0.2)
out['readerLists'] = len(reader.list_snapshot_blocks(SnapshotId=s1)['Blocks'])
out['readerStart'] = error_of(reader.start_snapshot, VolumeSize=1)
out['readerPut'] = fails(put, reader, s1, 1, pattern(1))
out['readerDenied'] = error_of(reader.list_snapshot_blocks, SnapshotId=s2)
out['kmsDenied'] = error_of(noKms.start_snapshot, VolumeSize=1, Encrypted=True, KmsKeyArn=key)
out['kmsDeniedRead'] = error_of(noKms.get_snapshot_block, SnapshotId=e['SnapshotId'], BlockIndex=2, BlockToken=tokens(e['SnapshotId'])[2])
kms.disable_key(KeyId=key)
out['disabledRead'] = error_of(ebs.get_snapshot_block, SnapshotId=e['SnapshotId'], BlockIndex=2, BlockToken=tokens(e['SnapshotId'])[2])
out['disabledStart'] = error_of(ebs.start_snapshot, VolumeSize=1, Encrypted=True, KmsKeyArn=key)
kms.enable_key(KeyId=key)
out['snapshotsLeft'] = len(ec2.describe_snapshots(OwnerIds=['self'])['Snapshots'])

ct = client('cloudtrail')
events = [json.loads(x['CloudTrailEvent']) for x in ct.lookup_events(LookupAttributes=[{'AttributeKey': 'EventSource', 'AttributeValue': 'ebs.amazonaws.com'}], MaxResults=50)['Events']]
out['ebsEvents'] = sorted(set(x['eventName'] for x in events))
out['deniedRecorded'] = any(x['eventName'] == 'PutSnapshotBlock' and x.get('errorCode') == 'AccessDeniedException' for x in events)
out['recordsShowNoKeyArn'] = not any(key in json.dumps([x.get('requestParameters'), x.get('responseElements')]) for x in events)
out['startRecorded'] = any(x['eventName'] == 'StartSnapshot' and (x.get('requestParameters') or {}).get('encrypted') is True for x in events)
kmsEvents = [json.loads(x['CloudTrailEvent']) for x in ct.lookup_events(LookupAttributes=[{'AttributeKey': 'EventSource', 'AttributeValue': 'kms.amazonaws.com'}], MaxResults=50)['Events']]
out['kmsAsCaller'] = sorted(set(x['eventName'] for x in kmsEvents if (x['requestParameters'] or {}).get('encryptionContext', {}).get('aws:ebs:id') == e['SnapshotId'] and x['userIdentity']['type'] == 'Root'))
`;

function awsCli(url: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('aws', ['--endpoint-url', url, ...args], { env: awsClientEnv(), timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A request signed by the SDK's SigV4 signer for service ebs, sent with node:http (only the headers when `headersOnly`). */
async function ebsRaw(baseUrl: string, method: string, path: string, headers: Record<string, string>, body?: Buffer, headersOnly = false, addedAfterSigning: Record<string, string> = {}) {
  const url = new URL(baseUrl);
  const signer = new SignatureV4({ service: 'ebs', region: TEST_REGION, credentials: TEST_CREDENTIALS, sha256: Sha256 });
  const [pathname, search] = path.split('?') as [string, string | undefined];
  const query = Object.fromEntries(new URLSearchParams(search ?? ''));
  const signed = await signer.sign({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: pathname, query, headers: { host: url.host, ...headers }, ...(body ? { body } : {}) });
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers: { ...signed.headers, ...addedAfterSigning } }, (r) => {
      let text = '';
      r.on('data', (d: Buffer) => (text += d.toString()));
      r.on('end', () => resolve({ status: r.statusCode!, body: text, headers: r.headers }));
    });
    req.on('error', reject);
    if (headersOnly) req.flushHeaders();
    else req.end(body);
  });
}

describe('EBS direct APIs: blocks with checksums, changed blocks, the same snapshots as EC2, errors, IAM/KMS, audit', { skip: boto3Unavailable() }, () => {
  let server: TestServer;
  let out: Record<string, any>;
  let volSnapA: string;
  let manySnap: string;

  before(async () => {
    server = await startServer({ nbd: { host: '127.0.0.1', port: 0 } });
    // A volume written through the BlockDevice, snapshotted (EC2's CreateSnapshot), written again, snapshotted.
    const v = await attachedVolume(server);
    const dev = await openDevice(server, v.volumeId);
    await dev.write(0, pattern(1), false);
    await dev.write(3 * BLOCK, pattern(3), false);
    await dev.write(9 * BLOCK, pattern(9), false);
    await dev.flush();
    volSnapA = (await server.app.volumes.createSnapshot(SCOPE, v.volumeId, 'a', {})).snapshotId;
    await dev.write(3 * BLOCK + 4096, Buffer.alloc(4096, 7), false); // one 4 KiB write inside block 3
    await dev.write(12 * BLOCK, pattern(12), true);
    await dev.flush();
    const volSnapB = (await server.app.volumes.createSnapshot(SCOPE, v.volumeId, 'b', {})).snapshotId;
    await dev.close();
    // 101 written blocks (4 KiB in each), for paging past MaxResults' minimum of 100.
    const many = await attachedVolume(server);
    const manyDev = await openDevice(server, many.volumeId);
    for (let i = 0; i < 101; i++) await manyDev.write(i * 2 * BLOCK, Buffer.alloc(4096, i + 1), false);
    await manyDev.flush();
    manySnap = (await server.app.volumes.createSnapshot(SCOPE, many.volumeId, 'many', {})).snapshotId;
    await manyDev.close();
    out = await runBoto3(server.url, SCENARIO, { volSnapA, volSnapB, manySnap });
  });
  after(() => server.destroy());

  it('StartSnapshot answers a pending snapshot (201) and a retry with the same ClientToken the same one; other members with it are a ConflictException', () => {
    assert.deepEqual(out.start, { Status: 'pending', VolumeSize: 1, BlockSize: BLOCK, SseType: 'none', Tags: [{ Key: 'team', Value: 'storage' }], Description: 'direct', OwnerId: '111122223333' });
    assert.equal(out.retrySameId, true);
    assert.deepEqual(out.tokenConflict, { code: 'ConflictException', message: 'The request uses the same client token as a previous, but non-identical request.', status: 409 });
  });

  it('PutSnapshotBlock writes 512 KiB blocks checked against their SHA-256 and echoes the checksum (EC2 makes no volume or copy of the pending snapshot); CompleteSnapshot checks the LINEAR aggregate', () => {
    assert.equal(out.putEcho, true);
    assert.equal(out.pendingDescribed, 'pending');
    assert.equal(out.volumeOfPending.code, 'IncorrectState');
    assert.equal(out.copyOfPending.code, 'IncorrectState');
    assert.equal(out.wrongAggregate.code, 'ValidationException');
    assert.equal(out.wrongCount.code, 'ValidationException');
    assert.match(out.wrongCount.message, /ChangedBlocksCount is 2 but 3 blocks/);
    assert.equal(out.complete, 'completed');
    assert.deepEqual(out.described, { State: 'completed', VolumeSize: 1, Encrypted: false, Description: 'direct', Tags: [{ Key: 'team', Value: 'storage' }] });
  });

  it('refuses a wrong checksum, a block that is not 512 KiB, one past the end, a body over 512 KiB and writes to a completed snapshot (ValidationException, 400)', () => {
    for (const e of [out.wrongChecksum, out.wrongSize, out.beyondEnd, out.tooLarge, out.putAfterComplete]) {
      assert.equal(e.code, 'ValidationException');
      assert.equal(e.status, 400);
    }
    assert.match(out.wrongChecksum.message, /checksum/);
    assert.match(out.wrongSize.message, /DataLength must be 524288/);
    assert.match(out.tooLarge.message, /at most 524288 bytes/);
  });

  it('ListSnapshotBlocks lists the written blocks (from StartingBlockIndex) and GetSnapshotBlock reads one back with its checksum; a token of another block is refused', () => {
    assert.deepEqual(out.listed, { blocks: [0, 5, 100], VolumeSize: 1, BlockSize: BLOCK });
    assert.deepEqual(out.listedFrom1, [5, 100]);
    assert.deepEqual(out.read5, { data: out.expect15, length: BLOCK, checksumOk: true, algorithm: 'SHA256' });
    assert.equal(out.badToken.code, 'ValidationException');
    assert.equal(out.malformedPage.code, 'ValidationException');
  });

  it('a snapshot started from a parent shares its blocks; ListChangedBlocks lists exactly the blocks written in between, with each side\'s token', () => {
    assert.deepEqual(out.changed, [[5, true, true], [7, false, true]]);
    assert.deepEqual(out.childBlocks, [0, 5, 7, 100]);
    assert.equal(out.childShared0, true);
    assert.equal(out.childNew5, true);
    assert.equal(out.firstOld5, true);
    assert.deepEqual(out.allOfSecond, [0, 5, 7, 100]);
  });

  it('ListSnapshotBlocks and ListChangedBlocks page with MaxResults (100–10,000) and NextToken', async () => {
    assert.deepEqual(out.pages, [100, [200], false]);
    assert.deepEqual(out.changedPages, [100, [200], 150, 26]);
    const tooFew = await ebsRaw(server.url, 'GET', `/snapshots/${manySnap}/blocks?maxResults=5`, {});
    assert.equal(tooFew.status, 400);
    assert.equal(tooFew.headers['x-amzn-errortype'], 'ValidationException');
    assert.match(JSON.parse(tooFew.body).Message, /Value '5' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 100/);
  });

  it('an unknown snapshot is ResourceNotFoundException (404)', () => {
    assert.equal(out.unknown.code, 'ResourceNotFoundException');
    assert.equal(out.unknown.status, 404);
    assert.equal(out.unknownPut.code, 'ResourceNotFoundException');
  });

  it('snapshots of a volume written through the BlockDevice are readable block by block, and exactly the changed 512 KiB blocks are listed between two of them', () => {
    assert.deepEqual(out.volBlocksA, [0, 3, 9]);
    assert.deepEqual(out.volBlocksB, [0, 3, 9, 12]);
    assert.equal(out.volRead3, createHash('sha256').update(pattern(3)).digest('hex'));
    const after = pattern(3);
    after.fill(7, 4096, 8192);
    assert.equal(out.volRead3After, createHash('sha256').update(after).digest('hex'));
    assert.deepEqual(out.volChanged, [3, 12]);
    assert.equal(out.unrelated.code, 'ValidationException');
  });

  it('a volume EC2 makes of a direct snapshot reads its blocks through NBD (nbdcopy)', { skip: nbdToolsMissing() }, async () => {
    await server.app.volumes.attach(SCOPE, out.volumeFromDirect, 'i-0123456789abcdef1', '/dev/sdg');
    const head = await new Promise<Buffer>((resolve, reject) => {
      execFile('sh', ['-c', `nbdcopy '${server.nbdUrl}/${out.volumeFromDirect}' - | head -c ${6 * BLOCK}`], { encoding: 'buffer', maxBuffer: 8 * BLOCK, timeout: 60_000 }, (err, stdout) =>
        err && stdout.length < 6 * BLOCK ? reject(err) : resolve(stdout),
      );
    });
    assert.equal(head.length, 6 * BLOCK);
    assert.ok(head.subarray(0, BLOCK).equals(pattern(10)));
    assert.ok(head.subarray(BLOCK, 5 * BLOCK).equals(Buffer.alloc(4 * BLOCK)));
    assert.ok(head.subarray(5 * BLOCK, 6 * BLOCK).equals(pattern(15)));
  });

  it('an encrypted StartSnapshot uses the CMK as the caller (context aws:ebs:id); its blocks read back and EC2 volumes of it stay under the CMK', () => {
    assert.deepEqual(out.encStart, { SseType: 'sse-kms', KmsKeyArn: true });
    assert.equal(out.encRead, true);
    assert.deepEqual(out.encDescribed, [true, true]);
    assert.deepEqual(out.encVolume, [true, true]);
    assert.ok(out.kmsAsCaller.includes('GenerateDataKeyWithoutPlaintext'), JSON.stringify(out.kmsAsCaller));
    assert.ok(out.kmsAsCaller.includes('Decrypt'));
  });

  it('IAM decides ebs:<Action> on the snapshot ARN (AccessDeniedException, 403); a user without KMS rights on the CMK is refused an encrypted StartSnapshot and its reads', () => {
    assert.equal(out.readerLists, 3);
    for (const e of [out.readerStart, out.readerPut, out.readerDenied]) {
      assert.equal(e.code, 'AccessDeniedException');
      assert.equal(e.status, 403);
    }
    assert.match(out.readerPut.message, /ebs:PutSnapshotBlock on resource: arn:aws:ec2:us-east-1::snapshot\/snap-/);
    assert.match(out.readerDenied.message, /explicit deny/);
    assert.equal(out.kmsDenied.code, 'AccessDeniedException');
    assert.equal(out.kmsDenied.status, 403);
    assert.match(out.kmsDenied.message, /kms:GenerateDataKeyWithoutPlaintext/);
    assert.equal(out.kmsDeniedRead.code, 'AccessDeniedException');
    assert.match(out.kmsDeniedRead.message, /kms:Decrypt/);
  });

  it('a disabled CMK makes an encrypted snapshot\'s blocks unreadable and refuses StartSnapshot under it (ValidationException)', () => {
    for (const e of [out.disabledRead, out.disabledStart]) {
      assert.equal(e.code, 'ValidationException');
      assert.match(e.message, /DisabledException|disabled/i);
    }
  });

  it('every call is audited with eventSource ebs.amazonaws.com (denied ones too), without the KMS key ARN (a sensitive member)', () => {
    for (const name of ['CompleteSnapshot', 'GetSnapshotBlock', 'ListChangedBlocks', 'ListSnapshotBlocks', 'PutSnapshotBlock', 'StartSnapshot']) assert.ok(out.ebsEvents.includes(name), name);
    assert.equal(out.deniedRecorded, true);
    assert.equal(out.startRecorded, true);
    assert.equal(out.recordsShowNoKeyArn, true);
  });

  it('the aws CLI lists a snapshot\'s blocks (aws ebs list-snapshot-blocks)', async () => {
    const res = await awsCli(server.url, ['ebs', 'list-snapshot-blocks', '--snapshot-id', volSnapA, '--output', 'json']);
    assert.equal(res.code, 0, res.stderr);
    const listed = JSON.parse(res.stdout) as { Blocks: { BlockIndex: number }[]; BlockSize: number };
    assert.deepEqual(listed.Blocks.map((b) => b.BlockIndex), [0, 3, 9]);
    assert.equal(listed.BlockSize, BLOCK);
  });

  it('a PutSnapshotBlock declaring a body over 512 KiB is answered before any of the body is sent', async () => {
    const res = await ebsRaw(server.url, 'PUT', `/snapshots/${volSnapA}/blocks/0`, { 'content-length': String(64 * BLOCK), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-data-length': String(BLOCK) }, undefined, true);
    assert.equal(res.status, 400);
    assert.equal(res.headers['x-amzn-errortype'], 'ValidationException');
    assert.match(JSON.parse(res.body).Message, /at most 524288 bytes/);
  });

  it('PutSnapshotBlock signed over UNSIGNED-PAYLOAD (as SDKs sign it over https) is accepted, its body held to its x-amz-Checksum (a header that must be signed); other operations sign their body', async () => {
    const started = await ebsRaw(server.url, 'POST', '/snapshots', { 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ VolumeSize: 1 })));
    assert.equal(started.status, 201, started.body);
    const id = JSON.parse(started.body).SnapshotId as string;
    const data = pattern(77);
    const checksum = createHash('sha256').update(data).digest('base64');
    const headers = { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-data-length': String(BLOCK), 'x-amz-checksum': checksum, 'x-amz-checksum-algorithm': 'SHA256', 'content-length': String(BLOCK) };
    const put = await ebsRaw(server.url, 'PUT', `/snapshots/${id}/blocks/3`, headers, data);
    assert.equal(put.status, 201, put.body);
    assert.equal(put.headers['x-amz-checksum'], checksum);
    const tampered = Buffer.from(data);
    tampered[0]! ^= 1;
    const bad = await ebsRaw(server.url, 'PUT', `/snapshots/${id}/blocks/4`, headers, tampered);
    assert.equal(bad.status, 400);
    assert.equal(bad.headers['x-amzn-errortype'], 'ValidationException');
    // The header members are signed: a checksum added after signing is refused.
    const { 'x-amz-checksum': _, ...withoutChecksum } = headers;
    const unsignedHeader = await ebsRaw(server.url, 'PUT', `/snapshots/${id}/blocks/5`, withoutChecksum, data, false, { 'x-amz-checksum': checksum });
    assert.equal(unsignedHeader.status, 400);
    assert.equal(unsignedHeader.headers['x-amzn-errortype'], 'IncompleteSignatureException');
    // A JSON body is signed: UNSIGNED-PAYLOAD is refused for StartSnapshot.
    const unsigned = await ebsRaw(server.url, 'POST', '/snapshots', { 'content-type': 'application/json', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, Buffer.from(JSON.stringify({ VolumeSize: 1 })));
    assert.equal(unsigned.status, 400);
    assert.equal(unsigned.headers['x-amzn-errortype'], 'InvalidSignatureException');
  });
});

describe('EBS direct APIs: a snapshot not completed within its Timeout goes to the error state', { skip: boto3Unavailable() }, () => {
  let server: TestServer;
  after(() => server?.destroy());

  it('after Timeout minutes, PutSnapshotBlock and CompleteSnapshot are refused (WRITE_REQUEST_TIMEOUT) and EC2 describes the snapshot as error', async () => {
    const clock = new ManualClock();
    server = await startServer({ clock });
    const started = await ebsRaw(server.url, 'POST', '/snapshots', { 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ VolumeSize: 1, Timeout: 10 })));
    const id = JSON.parse(started.body).SnapshotId as string;
    clock.advance(11 * 60_000);
    const data = pattern(5);
    const put = await ebsRaw(server.url, 'PUT', `/snapshots/${id}/blocks/0`, {
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-data-length': String(BLOCK), 'x-amz-checksum': createHash('sha256').update(data).digest('base64'), 'x-amz-checksum-algorithm': 'SHA256', 'content-length': String(BLOCK),
    }, data);
    assert.equal(put.status, 400);
    assert.deepEqual(JSON.parse(put.body), { Message: `The snapshot ${id} was not completed within its timeout of 10 minutes.`, Reason: 'WRITE_REQUEST_TIMEOUT' });
    const out = await runBoto3(server.url, "out['state'] = client('ec2').describe_snapshots(SnapshotIds=[args['id']])['Snapshots'][0]['State']\nout['complete'] = error_of(client('ebs').complete_snapshot, SnapshotId=args['id'], ChangedBlocksCount=0)", { id });
    assert.equal(out.state, 'error');
    assert.equal(out.complete.code, 'ValidationException');
  });
});
