// ModifyVolume and DescribeVolumesModifications over HTTP with boto3 and the aws CLI: a volume grows (never
// shrinks), changes type, shows its modification; AWS's refusals (smaller, nothing asked, too large, the six-hour
// cooldown, not found), IAM, audit; and through a real NBD client, the grown area reads as zeroes and keeps writes.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.js';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { signedQueryRequest } from '../../helpers/query-request.js';
import { sendRaw } from '../../helpers/raw-request.js';
import { boto3Unavailable, runBoto3 } from '../../helpers/boto3.js';
import { RawNbdClient } from '../../helpers/nbd-client.js';
import { nbdToolsMissing, runTool } from '../../helpers/nbd-tools.js';
import { TEST_ACCOUNT, TestServer, startServer } from '../../helpers/server.js';

const GiB = 2 ** 30;
const HOUR = 60 * 60 * 1000;

const SCENARIO = String.raw`
import time
ec2 = client('ec2')
az = 'us-east-1a'
v = ec2.create_volume(Size=1, AvailabilityZone=az, VolumeType='gp2')['VolumeId']
out['v'] = v
snapBefore = ec2.create_snapshot(VolumeId=v)['SnapshotId']
out['neverModified'] = error_of(ec2.describe_volumes_modifications, VolumeIds=[v])
out['modify'] = ec2.modify_volume(VolumeId=v, Size=3, VolumeType='gp3')['VolumeModification']
out['described'] = {k: ec2.describe_volumes(VolumeIds=[v])['Volumes'][0].get(k) for k in ('Size', 'VolumeType', 'Iops', 'Throughput', 'State')}
out['mods'] = ec2.describe_volumes_modifications(VolumeIds=[v])['VolumesModifications']
snapAfter = ec2.create_snapshot(VolumeId=v)['SnapshotId']
out['snapSizes'] = {s['SnapshotId']: s['VolumeSize'] for s in ec2.describe_snapshots(SnapshotIds=[snapBefore, snapAfter])['Snapshots']}
out['snapBefore'], out['snapAfter'] = snapBefore, snapAfter
out['fromOld'] = ec2.create_volume(SnapshotId=snapBefore, AvailabilityZone=az)['Size']
out['fromNew'] = ec2.create_volume(SnapshotId=snapAfter, AvailabilityZone=az)['Size']
out['cooldown'] = error_of(ec2.modify_volume, VolumeId=v, Size=4)

# AWS's refusals, on a volume never modified (checked before the cooldown).
w = ec2.create_volume(Size=2, AvailabilityZone=az, VolumeType='gp3')['VolumeId']
out['w'] = w
out['shrink'] = error_of(ec2.modify_volume, VolumeId=w, Size=1)
out['nothing'] = error_of(ec2.modify_volume, VolumeId=w)
out['tooLarge'] = error_of(ec2.modify_volume, VolumeId=w, Size=65537)
out['iopsOnGp2'] = error_of(ec2.modify_volume, VolumeId=w, VolumeType='gp2', Iops=4000)
out['multiAttach'] = error_of(ec2.modify_volume, VolumeId=w, MultiAttachEnabled=True)
out['missing'] = error_of(ec2.modify_volume, VolumeId='vol-0123456789abcdef0', Size=5)
out['malformed'] = error_of(ec2.modify_volume, VolumeId='volume-1', Size=5)
out['dryRun'] = error_of(ec2.modify_volume, VolumeId=w, Size=5, DryRun=True)
out['wUnchanged'] = ec2.describe_volumes(VolumeIds=[w])['Volumes'][0]['Size']
out['describeMissing'] = error_of(ec2.describe_volumes_modifications, VolumeIds=['vol-0123456789abcdef0'])
out['wNotModified'] = error_of(ec2.describe_volumes_modifications, VolumeIds=[w])
# The same size as now is a modification on EC2 too (accepted, and it starts the cooldown).
out['sameSize'] = ec2.modify_volume(VolumeId=w, Size=2)['VolumeModification']['ModificationState']

# Filters and paging over every modified volume.
more = [ec2.create_volume(Size=1, AvailabilityZone=az, VolumeType='gp3')['VolumeId'] for _ in range(5)]
for i, m in enumerate(more):
    ec2.modify_volume(VolumeId=m, Size=2 + i)
out['all'] = sorted(m['VolumeId'] for m in ec2.describe_volumes_modifications()['VolumesModifications'])
out['expectedAll'] = sorted([v, w] + more)
out['bigTargets'] = sorted(m['TargetSize'] for m in ec2.describe_volumes_modifications(Filters=[{'Name': 'target-size', 'Values': ['5', '6']}])['VolumesModifications'])
out['fromGp2'] = [m['VolumeId'] for m in ec2.describe_volumes_modifications(Filters=[{'Name': 'original-volume-type', 'Values': ['gp2']}, {'Name': 'modification-state', 'Values': ['completed']}])['VolumesModifications']]
pages, token = [], None
while True:
    kw = {'MaxResults': 5}
    if token: kw['NextToken'] = token
    r = ec2.describe_volumes_modifications(**kw)
    pages.append([m['VolumeId'] for m in r['VolumesModifications']])
    token = r.get('NextToken')
    if not token: break
out['pages'] = pages
# VolumeIds with MaxResults: paged over the named volumes (DescribeVolumes refuses the pair; this API does not).
r = ec2.describe_volumes_modifications(VolumeIds=more + [v], MaxResults=5)
out['namedPage'] = [sorted(m['VolumeId'] for m in r['VolumesModifications']), bool(r.get('NextToken'))]
out['paginator'] = [m['VolumeId'] for p in ec2.get_paginator('describe_volumes_modifications').paginate(PaginationConfig={'PageSize': 5}) for m in p['VolumesModifications']]
out['badFilter'] = error_of(ec2.describe_volumes_modifications, Filters=[{'Name': 'no-such-filter', 'Values': ['x']}])

# IAM: ec2:ModifyVolume is evaluated on the volume's ARN; DescribeVolumesModifications on *.
iam = client('iam')
def user(name, statements):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName='p', PolicyDocument=json.dumps({'Version': '2012-10-17', 'Statement': statements}))
    k = iam.create_access_key(UserName=name)['AccessKey']
    return (k['AccessKeyId'], k['SecretAccessKey'])
other = ec2.create_volume(Size=1, AvailabilityZone=az)['VolumeId']
onlyW = user('only-other', [{'Effect': 'Allow', 'Action': ['ec2:ModifyVolume', 'ec2:DescribeVolumes'], 'Resource': 'arn:aws:ec2:us-east-1:' + args['account'] + ':volume/' + other}])
readOnly = user('read-only', [{'Effect': 'Allow', 'Action': 'ec2:Describe*', 'Resource': '*'}])
time.sleep(0.2)
out['deniedOther'] = error_of(client('ec2', creds=onlyW).modify_volume, VolumeId=more[0], Size=9)
out['allowedOwn'] = client('ec2', creds=onlyW).modify_volume(VolumeId=other, Size=2)['VolumeModification']['TargetSize']
out['deniedReadOnly'] = error_of(client('ec2', creds=readOnly).modify_volume, VolumeId=other, Size=3)
out['readOnlyDescribes'] = len(client('ec2', creds=readOnly).describe_volumes_modifications()['VolumesModifications'])
out['describeDenied'] = error_of(client('ec2', creds=onlyW).describe_volumes_modifications)

ct = client('cloudtrail')
events = [json.loads(e['CloudTrailEvent']) for name in ('ModifyVolume', 'DescribeVolumesModifications') for e in ct.lookup_events(LookupAttributes=[{'AttributeKey': 'EventName', 'AttributeValue': name}], MaxResults=50)['Events']]
out['audited'] = sorted(set(e['eventName'] for e in events if e['eventSource'] == 'ec2.amazonaws.com'))
out['deniedAudited'] = any(e['eventName'] == 'ModifyVolume' and e.get('errorCode') == 'UnauthorizedOperation' for e in events)
`;

describe('ModifyVolume and DescribeVolumesModifications over HTTP with boto3', { skip: boto3Unavailable() }, () => {
  let server: TestServer;
  let out: Record<string, any>;
  let later: Record<string, any>;
  const clock = new ManualClock();

  before(async () => {
    server = await startServer({ clock });
    out = await runBoto3(server.url, SCENARIO, { account: TEST_ACCOUNT });
    // Past AWS's six-hour cooldown, the grown volume may be modified again.
    clock.advance(6 * HOUR + 60_000);
    later = await runBoto3(
      server.url,
      String.raw`
ec2 = client('ec2')
out['again'] = ec2.modify_volume(VolumeId=args['v'], Size=10, Iops=5000)['VolumeModification']
out['shrinkAfter'] = error_of(ec2.modify_volume, VolumeId=args['v'], Size=3)
out['size'] = ec2.describe_volumes(VolumeIds=[args['v']])['Volumes'][0]['Size']
out['mods'] = ec2.describe_volumes_modifications(VolumeIds=[args['v']])['VolumesModifications']
`,
      { v: out.v },
    );
  });
  after(() => server?.destroy());

  it('grows a volume and changes its type: the answer is the modification (completed at once), DescribeVolumes shows the new size and type', () => {
    const m = out.modify;
    assert.equal(m.VolumeId, out.v);
    assert.equal(m.ModificationState, 'completed');
    assert.deepEqual(
      { OriginalSize: m.OriginalSize, TargetSize: m.TargetSize, OriginalVolumeType: m.OriginalVolumeType, TargetVolumeType: m.TargetVolumeType, TargetIops: m.TargetIops, TargetThroughput: m.TargetThroughput },
      { OriginalSize: 1, TargetSize: 3, OriginalVolumeType: 'gp2', TargetVolumeType: 'gp3', TargetIops: 3000, TargetThroughput: 125 },
    );
    assert.equal(m.Progress, 100);
    assert.equal(m.TargetMultiAttachEnabled, false);
    assert.ok(m.StartTime && m.EndTime);
    assert.deepEqual(out.described, { Size: 3, VolumeType: 'gp3', Iops: 3000, Throughput: 125, State: 'available' });
    assert.deepEqual(out.mods.map((x: any) => [x.VolumeId, x.ModificationState, x.OriginalSize, x.TargetSize]), [[out.v, 'completed', 1, 3]]);
  });

  it('snapshots keep the size they were taken at; volumes made of them get that size', () => {
    assert.equal(out.snapSizes[out.snapBefore], 1);
    assert.equal(out.snapSizes[out.snapAfter], 3);
    assert.equal(out.fromOld, 1);
    assert.equal(out.fromNew, 3);
  });

  it("refuses as EC2 does: a smaller size, a request naming nothing, a size over the type's maximum, Iops for gp2, Multi-Attach, unknown and malformed ids", () => {
    assert.deepEqual(out.shrink, { code: 'InvalidParameterValue', message: 'New size cannot be smaller than existing size', status: 400 });
    assert.equal(out.nothing.code, 'InvalidParameterValue');
    assert.match(out.nothing.message, /Must specify at least one of size, type, iops, throughput or multi-attach/);
    assert.deepEqual(out.tooLarge, { code: 'InvalidParameterValue', message: 'Volume of 65537GiB is too large; maximum is 65536GiB.', status: 400 });
    assert.equal(out.iopsOnGp2.code, 'InvalidParameterCombination');
    assert.equal(out.multiAttach.code, 'Unsupported');
    assert.deepEqual(out.missing, { code: 'InvalidVolume.NotFound', message: "The volume 'vol-0123456789abcdef0' does not exist.", status: 400 });
    assert.equal(out.malformed.code, 'InvalidVolumeID.Malformed');
    assert.equal(out.dryRun.code, 'DryRunOperation');
    assert.equal(out.wUnchanged, 2, 'nothing refused changed the volume');
    assert.equal(out.sameSize, 'completed');
  });

  it('a second modification within six hours is VolumeModificationRateExceeded; after them it is accepted', () => {
    assert.deepEqual(out.cooldown, {
      code: 'VolumeModificationRateExceeded',
      message: "You've reached the maximum modification rate per volume limit. Wait at least 6 hours between modifications per EBS volume.",
      status: 400,
    });
    assert.deepEqual([later.again.OriginalSize, later.again.TargetSize, later.again.OriginalIops, later.again.TargetIops, later.again.TargetVolumeType], [3, 10, 3000, 5000, 'gp3']);
    assert.equal(later.shrinkAfter.code, 'InvalidParameterValue');
    assert.equal(later.size, 10);
    // Only the most recent modification is described.
    assert.deepEqual(later.mods.map((x: any) => [x.OriginalSize, x.TargetSize]), [[3, 10]]);
  });

  it("DescribeVolumesModifications: a volume never modified is InvalidVolumeModification.NotFound, an unknown one InvalidVolume.NotFound; filters and MaxResults/NextToken paging", () => {
    assert.deepEqual(out.neverModified, { code: 'InvalidVolumeModification.NotFound', message: `Modification for volume '${out.v}' does not exist.`, status: 400 });
    assert.deepEqual(out.wNotModified, { code: 'InvalidVolumeModification.NotFound', message: `Modification for volume '${out.w}' does not exist.`, status: 400 });
    assert.equal(out.describeMissing.code, 'InvalidVolume.NotFound');
    assert.deepEqual(out.all, out.expectedAll);
    assert.deepEqual(out.bigTargets, [5, 6]);
    assert.deepEqual(out.fromGp2, [out.v]);
    assert.deepEqual(out.pages.map((p: string[]) => p.length), [5, 2]);
    assert.deepEqual(out.pages.flat(), out.expectedAll);
    assert.deepEqual(out.paginator, out.expectedAll);
    assert.equal(out.namedPage[0].length, 5);
    assert.equal(out.namedPage[1], true, 'six volumes named, five per page: a NextToken');
    assert.equal(out.badFilter.code, 'InvalidParameterValue');
  });

  it('two ModifyVolume requests of one volume at once: one is the modification, the other VolumeModificationRateExceeded (checked and written in one transaction)', async () => {
    const post = async (params: Record<string, string>) => sendRaw(server.url, await signedQueryRequest(server.url, { Version: '2016-11-15', ...params }, { service: 'ec2' }));
    const made = await post({ Action: 'CreateVolume', Size: '1', AvailabilityZone: 'us-east-1a' });
    const id = /<volumeId>(vol-[0-9a-f]+)<\/volumeId>/.exec(made.text)![1]!;
    // The same size in each: a larger one first would make a smaller one after it refused as a shrink, not by the cooldown.
    const answers = await Promise.all([0, 1, 2, 3].map(() => post({ Action: 'ModifyVolume', VolumeId: id, Size: '3' })));
    const ok = answers.filter((a) => a.status === 200);
    assert.equal(ok.length, 1, answers.map((a) => a.text).join('\n'));
    for (const a of answers.filter((x) => x.status !== 200)) assert.match(a.text, /<Code>VolumeModificationRateExceeded<\/Code>/);
    const target = /<targetSize>(\d+)<\/targetSize>/.exec(ok[0]!.text)![1];
    const described = await post({ Action: 'DescribeVolumes', 'VolumeId.1': id });
    assert.match(described.text, new RegExp(`<size>${target}</size>`));
  });

  it('IAM: ec2:ModifyVolume on the volume ARN decides (UnauthorizedOperation, 403, otherwise); every call is audited', () => {
    assert.equal(out.deniedOther.code, 'UnauthorizedOperation');
    assert.equal(out.deniedOther.status, 403);
    assert.equal(out.allowedOwn, 2);
    assert.equal(out.deniedReadOnly.code, 'UnauthorizedOperation');
    assert.ok(out.readOnlyDescribes >= 7);
    assert.equal(out.describeDenied.code, 'UnauthorizedOperation');
    assert.deepEqual(out.audited, ['DescribeVolumesModifications', 'ModifyVolume']);
    assert.equal(out.deniedAudited, true);
  });
});

const cli = spawnSync('aws', ['--version'], { env: awsClientEnv(), encoding: 'utf8', timeout: 30_000 });
if (cli.error && process.env.CI) throw new Error('the aws CLI cannot be run');
const nbdSkip = nbdToolsMissing() ?? (cli.error ? 'the aws CLI cannot be run' : false);

describe('a volume grown with the aws CLI is exported over NBD at its new size: the old data kept, the new area zeroes, writes there kept', { skip: nbdSkip }, () => {
  let server: TestServer;
  const aws = (args: string[]) =>
    new Promise<Record<string, any>>((resolve, reject) =>
      execFile('aws', ['--endpoint-url', server.url, '--output', 'json', ...args], { env: awsClientEnv(), timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`aws ${args.join(' ')}: ${err.message}: ${stderr}`)) : resolve(stdout.trim() ? (JSON.parse(stdout) as Record<string, any>) : {}),
      ),
    );
  const attach = (id: string) => aws(['ec2', 'attach-volume', '--volume-id', id, '--instance-id', 'i-0123456789abcdef0', '--device', '/dev/sdf']);
  /** The export's size as a new connection negotiates it (tried again while a closed client's claim is let go). */
  const exportSize = async (id: string): Promise<number> => {
    for (let i = 0; ; i++) {
      const r = await runTool('nbdinfo', ['--size', `${server.nbdUrl}/${id}`]);
      if (r.code === 0) return Number(r.stdout.trim());
      if (i >= 30) throw new Error(`nbdinfo: ${r.stderr}`);
      await sleep(100);
    }
  };
  /** qemu-io commands on one connection; `read -P n` verifies every byte read is n. Fails on any failure it prints. */
  const qemuIo = async (id: string, commands: string[]): Promise<string> => {
    const args = ['-f', 'raw', ...commands.flatMap((c) => ['-c', c]), `${server.nbdUrl}/${id}`];
    const r = await runTool('qemu-io', args, 120_000);
    const said = `${r.stdout}${r.stderr}`;
    if (r.code !== 0 || /fail|error|verification/i.test(said)) throw new Error(`qemu-io ${commands.join('; ')}: ${said}`);
    return said;
  };

  before(async () => {
    server = await startServer({ nbd: { host: '127.0.0.1', port: 0 } });
  });
  after(() => server?.destroy());

  it('grows 1 → 2 GiB while attached: a client connected keeps the size it negotiated, the next connection has the new one — old data kept, the new area zeroes, writes past the old end kept across detach/attach', async () => {
    const id = (await aws(['ec2', 'create-volume', '--size', '1', '--availability-zone', 'us-east-1a', '--volume-type', 'gp3'])).VolumeId as string;
    await attach(id);
    assert.equal(await exportSize(id), GiB);
    // A pattern over the last 64 KiB + 1 byte of the old size (across the last chunk boundary but one).
    const tail = 65_537;
    await qemuIo(id, [`write -P 0x5a ${GiB - tail} ${tail}`, 'flush']);

    // A client connected before the modification (NBD fixes the size at negotiation).
    const open = await RawNbdClient.connect(Number(new URL(server.nbdUrl!).port));
    assert.equal((await open.open(id)).size, BigInt(GiB));

    const m = (await aws(['ec2', 'modify-volume', '--volume-id', id, '--size', '2'])).VolumeModification;
    assert.deepEqual([m.ModificationState, m.OriginalSize, m.TargetSize], ['completed', 1, 2]);
    assert.equal((await aws(['ec2', 'describe-volumes', '--volume-ids', id])).Volumes[0].Size, 2);
    const described = (await aws(['ec2', 'describe-volumes-modifications', '--volume-ids', id])).VolumesModifications;
    assert.deepEqual(described.map((x: any) => [x.VolumeId, x.ModificationState, x.TargetSize]), [[id, 'completed', 2]]);

    // The open client still has 1 GiB: a read past it is refused (EINVAL), one inside it answered.
    open.request(0, 1n, GiB, 512);
    assert.equal((await open.reply(new Map([[1n, 512]]))).error, 22);
    open.request(0, 2n, GiB - 512, 512);
    const inside = await open.reply(new Map([[2n, 512]]));
    assert.equal(inside.error, 0);
    assert.ok(inside.data!.equals(Buffer.alloc(512, 0x5a)));
    open.request(2, 3n, 0, 0); // NBD_CMD_DISC
    open.destroy();

    // The next connection negotiates 2 GiB: the old pattern is there, the grown area reads as zeroes.
    assert.equal(await exportSize(id), 2 * GiB);
    await qemuIo(id, [`read -P 0x5a ${GiB - tail} ${tail}`, `read -P 0 ${GiB} ${3 * 65_536}`, `read -P 0 ${2 * GiB - 4096} 4096`]);

    // Written past the old end and at the new end, then detached and attached again.
    await qemuIo(id, [`write -P 0xa7 ${GiB + 12_345} 200000`, `write -P 0x3c ${2 * GiB - 4096} 4096`, 'flush']);
    await aws(['ec2', 'detach-volume', '--volume-id', id]);
    await attach(id);
    assert.equal(await exportSize(id), 2 * GiB);
    await qemuIo(id, [
      `read -P 0x5a ${GiB - tail} ${tail}`,
      `read -P 0 ${GiB} 12345`,
      `read -P 0xa7 ${GiB + 12_345} 200000`,
      `read -P 0 ${GiB + 212_345} 65536`,
      `read -P 0x3c ${2 * GiB - 4096} 4096`,
    ]);
  });
});
