import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  CancelKeyDeletionCommand, CreateAliasCommand, CreateGrantCommand, CreateKeyCommand, CreateKeyCommandInput, DecryptCommand, DescribeKeyCommand,
  DisableKeyCommand, DisableKeyRotationCommand, EnableKeyCommand, EnableKeyRotationCommand, EncryptCommand, GenerateMacCommand, GetKeyPolicyCommand,
  GetKeyRotationStatusCommand, GetPublicKeyCommand, KMSClient, ListAliasesCommand, ListGrantsCommand, ListKeyRotationsCommand, ListKeysCommand,
  ListResourceTagsCommand, ReEncryptCommand, ReplicateKeyCommand, RotateKeyOnDemandCommand, ScheduleKeyDeletionCommand, SignCommand,
  TagResourceCommand, UpdatePrimaryRegionCommand, VerifyCommand, VerifyMacCommand,
} from '@aws-sdk/client-kms';
import { execFile } from 'node:child_process';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DAY_MS, ManualClock } from '../../../src/core/clock.js';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { Clients, allow, policyDocument } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TestServer, rejection, startServer } from '../../helpers/server.js';
import { postgresCluster, postgresSkip } from '../../helpers/postgres.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Multi-Region keys (issue 11): https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html.
 * One server serves three Regions of one deployment (one database); a client per Region stands for the
 * Regional endpoints.
 */
const EAST = 'us-east-1';
const WEST = 'eu-west-1';
const SOUTH = 'ap-south-1';

describe('KMS multi-Region keys over HTTP with @aws-sdk/client-kms', () => {
  let server: TestServer;
  let clients: Clients;
  let east: KMSClient;
  let west: KMSClient;
  let south: KMSClient;
  const clock = new ManualClock();

  before(async () => {
    server = await startServer({ clock, regions: `${EAST},${WEST},${SOUTH}` });
    clients = new Clients(server);
    east = server.kms({ region: EAST });
    west = server.kms({ region: WEST });
    south = server.kms({ region: SOUTH });
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
  });

  const arnIn = (region: string, keyId: string) => `arn:aws:kms:${region}:${TEST_ACCOUNT}:key/${keyId}`;
  const createPrimary = async (params: CreateKeyCommandInput = {}) => (await east.send(new CreateKeyCommand({ MultiRegion: true, ...params }))).KeyMetadata!;
  const replicate = async (keyId: string, region = WEST, more: Record<string, unknown> = {}) =>
    east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: region, ...more }));
  const describe_ = async (client: KMSClient, keyId: string) => (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
  const text = (s: string) => Buffer.from(s, 'utf8');

  it('CreateKey MultiRegion makes a primary key: key id mrk- and 32 hex digits, MultiRegionConfiguration PRIMARY with no replicas; symmetric, HMAC and asymmetric specs', async () => {
    for (const params of [{}, { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }, { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }] as CreateKeyCommandInput[]) {
      const md = await createPrimary(params);
      assert.match(md.KeyId!, /^mrk-[0-9a-f]{32}$/);
      assert.equal(md.Arn, arnIn(EAST, md.KeyId!));
      assert.equal(md.MultiRegion, true);
      assert.deepEqual(md.MultiRegionConfiguration, { MultiRegionKeyType: 'PRIMARY', PrimaryKey: { Arn: md.Arn, Region: EAST }, ReplicaKeys: [] });
      assert.deepEqual((await describe_(east, md.KeyId!)).MultiRegionConfiguration, md.MultiRegionConfiguration);
    }
    // Multi-Region keys with imported material are not served: refused, not made single-Region.
    const err = await rejection(east.send(new CreateKeyCommand({ MultiRegion: true, Origin: 'EXTERNAL' })));
    assert.equal(err.name, 'UnsupportedOperationException');
    const single = (await east.send(new CreateKeyCommand({}))).KeyMetadata!;
    assert.equal(single.MultiRegion, false);
    assert.equal(single.MultiRegionConfiguration, undefined);
    assert.doesNotMatch(single.KeyId!, /^mrk-/);
  });

  it('ReplicateKey makes a replica with the same key id in the other Region, its own policy, description and tags; DescribeKey of each shows both', async () => {
    const primary = await createPrimary({ Description: 'primary', Tags: [{ TagKey: 'team', TagValue: 'payroll' }] });
    const policy = policyDocument({ Sid: 'root', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' });
    const out = await replicate(primary.KeyId!, WEST, { Description: 'replica', Policy: policy, Tags: [{ TagKey: 'site', TagValue: 'dublin' }] });
    const replicaArn = arnIn(WEST, primary.KeyId!);
    const md = out.ReplicaKeyMetadata!;
    assert.equal(md.KeyId, primary.KeyId);
    assert.equal(md.Arn, replicaArn);
    assert.equal(md.KeyState, 'Enabled');
    assert.equal(md.Description, 'replica');
    assert.equal(md.MultiRegion, true);
    assert.equal(md.KeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(md.CurrentKeyMaterialId, primary.CurrentKeyMaterialId);
    const expected = { PrimaryKey: { Arn: primary.Arn, Region: EAST }, ReplicaKeys: [{ Arn: replicaArn, Region: WEST }] };
    assert.deepEqual(md.MultiRegionConfiguration, { MultiRegionKeyType: 'REPLICA', ...expected });
    assert.equal(out.ReplicaPolicy, policy);
    assert.deepEqual(out.ReplicaTags, [{ TagKey: 'site', TagValue: 'dublin' }]);

    assert.deepEqual((await describe_(east, primary.KeyId!)).MultiRegionConfiguration, { MultiRegionKeyType: 'PRIMARY', ...expected });
    assert.deepEqual((await describe_(west, primary.KeyId!)).MultiRegionConfiguration, { MultiRegionKeyType: 'REPLICA', ...expected });
    assert.equal((await describe_(west, replicaArn)).Description, 'replica');
    assert.equal((await describe_(east, primary.KeyId!)).Description, 'primary');
    // Independent properties: policy, tags, aliases, grants.
    assert.equal((await west.send(new GetKeyPolicyCommand({ KeyId: primary.KeyId }))).Policy, policy);
    assert.notEqual((await east.send(new GetKeyPolicyCommand({ KeyId: primary.KeyId }))).Policy, policy);
    await west.send(new TagResourceCommand({ KeyId: primary.KeyId, Tags: [{ TagKey: 'only', TagValue: 'west' }] }));
    assert.deepEqual((await west.send(new ListResourceTagsCommand({ KeyId: primary.KeyId }))).Tags, [{ TagKey: 'only', TagValue: 'west' }, { TagKey: 'site', TagValue: 'dublin' }]);
    assert.deepEqual((await east.send(new ListResourceTagsCommand({ KeyId: primary.KeyId }))).Tags, [{ TagKey: 'team', TagValue: 'payroll' }]);
    await west.send(new CreateAliasCommand({ AliasName: 'alias/mrk-west', TargetKeyId: primary.KeyId }));
    const aliases = (await west.send(new ListAliasesCommand({ KeyId: primary.KeyId }))).Aliases!;
    assert.deepEqual(aliases.map((a) => [a.AliasName, a.TargetKeyId]), [['alias/mrk-west', primary.KeyId]]);
    assert.deepEqual((await east.send(new ListAliasesCommand({ KeyId: primary.KeyId }))).Aliases, []);
    assert.equal((await describe_(west, 'alias/mrk-west')).Arn, replicaArn);
    await west.send(new CreateGrantCommand({ KeyId: primary.KeyId, GranteePrincipal: `arn:aws:iam::${TEST_ACCOUNT}:user/reader`, Operations: ['Decrypt'] }));
    assert.equal((await west.send(new ListGrantsCommand({ KeyId: primary.KeyId }))).Grants!.length, 1);
    assert.equal((await west.send(new ListGrantsCommand({ KeyId: primary.KeyId }))).Grants![0]!.KeyId, replicaArn);
    assert.equal((await east.send(new ListGrantsCommand({ KeyId: primary.KeyId }))).Grants!.length, 0);
    // Each Region lists its own key.
    const listed = async (client: KMSClient) => ((await client.send(new ListKeysCommand({ Limit: 1000 }))).Keys ?? []).filter((k) => k.KeyId === primary.KeyId);
    assert.deepEqual(await listed(west), [{ KeyId: primary.KeyId, KeyArn: replicaArn }]);
    assert.deepEqual(await listed(east), [{ KeyId: primary.KeyId, KeyArn: primary.Arn }]);
  });

  it('a ciphertext made in one Region decrypts with the related key in the other, both ways; ReEncrypt too; a single-Region key\'s ciphertext does not', async () => {
    const primary = await createPrimary();
    await replicate(primary.KeyId!);
    const context = { purpose: 'mrk-test' };
    const fromEast = await east.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: text('made in us-east-1'), EncryptionContext: context }));
    const inWest = await west.send(new DecryptCommand({ CiphertextBlob: fromEast.CiphertextBlob, EncryptionContext: context }));
    assert.equal(Buffer.from(inWest.Plaintext!).toString(), 'made in us-east-1');
    assert.equal(inWest.KeyId, arnIn(WEST, primary.KeyId!));
    // Naming the related key in the Decrypt Region is fine; the context still binds.
    assert.equal(Buffer.from((await west.send(new DecryptCommand({ CiphertextBlob: fromEast.CiphertextBlob, EncryptionContext: context, KeyId: arnIn(WEST, primary.KeyId!) }))).Plaintext!).toString(), 'made in us-east-1');
    assert.equal((await rejection(west.send(new DecryptCommand({ CiphertextBlob: fromEast.CiphertextBlob })))).name, 'InvalidCiphertextException');
    const other = (await west.send(new CreateKeyCommand({}))).KeyMetadata!;
    assert.equal((await rejection(west.send(new DecryptCommand({ CiphertextBlob: fromEast.CiphertextBlob, EncryptionContext: context, KeyId: other.KeyId })))).name, 'IncorrectKeyException');

    const fromWest = await west.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: text('made in eu-west-1') }));
    const inEast = await east.send(new DecryptCommand({ CiphertextBlob: fromWest.CiphertextBlob }));
    assert.equal(Buffer.from(inEast.Plaintext!).toString(), 'made in eu-west-1');
    assert.equal(inEast.KeyId, primary.Arn);

    // ReEncrypt in eu-west-1 of a us-east-1 ciphertext to another key there.
    const re = await west.send(new ReEncryptCommand({ CiphertextBlob: fromEast.CiphertextBlob, SourceEncryptionContext: context, DestinationKeyId: other.KeyId }));
    assert.equal(re.SourceKeyId, arnIn(WEST, primary.KeyId!));
    assert.equal(Buffer.from((await west.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob }))).Plaintext!).toString(), 'made in us-east-1');

    // A Region without a related key cannot decrypt it, nor can any Region a single-Region key's ciphertext.
    assert.equal((await rejection(south.send(new DecryptCommand({ CiphertextBlob: fromEast.CiphertextBlob, EncryptionContext: context })))).name, 'InvalidCiphertextException');
    const single = (await east.send(new CreateKeyCommand({}))).KeyMetadata!;
    const singleCt = await east.send(new EncryptCommand({ KeyId: single.KeyId, Plaintext: text('stays home') }));
    assert.equal((await rejection(west.send(new DecryptCommand({ CiphertextBlob: singleCt.CiphertextBlob })))).name, 'InvalidCiphertextException');
  });

  it('Sign in one Region verifies in the other (same public key); a MAC from one Region verifies in the other', async () => {
    const signing = await createPrimary({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    await replicate(signing.KeyId!);
    const message = text('release v1.2.3');
    const signature = (await east.send(new SignCommand({ KeyId: signing.KeyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }))).Signature!;
    assert.equal((await west.send(new VerifyCommand({ KeyId: signing.KeyId, Message: message, Signature: signature, SigningAlgorithm: 'ECDSA_SHA_256' }))).SignatureValid, true);
    const westSig = (await west.send(new SignCommand({ KeyId: signing.KeyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }))).Signature!;
    assert.equal((await east.send(new VerifyCommand({ KeyId: signing.KeyId, Message: message, Signature: westSig, SigningAlgorithm: 'ECDSA_SHA_256' }))).SignatureValid, true);
    assert.deepEqual((await west.send(new GetPublicKeyCommand({ KeyId: signing.KeyId }))).PublicKey, (await east.send(new GetPublicKeyCommand({ KeyId: signing.KeyId }))).PublicKey);

    const hmac = await createPrimary({ KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC' });
    await replicate(hmac.KeyId!);
    const mac = (await east.send(new GenerateMacCommand({ KeyId: hmac.KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_384' }))).Mac!;
    assert.equal((await west.send(new VerifyMacCommand({ KeyId: hmac.KeyId, Message: message, Mac: mac, MacAlgorithm: 'HMAC_SHA_384' }))).MacValid, true);
    const err = await rejection(west.send(new VerifyMacCommand({ KeyId: hmac.KeyId, Message: text('release v1.2.4'), Mac: mac, MacAlgorithm: 'HMAC_SHA_384' })));
    assert.equal(err.name, 'KMSInvalidMacException');
  });

  it('rotating the primary, on demand or automatically, gives every replica the new material; replicas refuse to rotate themselves', async () => {
    const primary = await createPrimary();
    await replicate(primary.KeyId!);
    const before = await west.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: text('before') }));
    await east.send(new RotateKeyOnDemandCommand({ KeyId: primary.KeyId }));
    const eastMd = await describe_(east, primary.KeyId!);
    const westMd = await describe_(west, primary.KeyId!);
    assert.notEqual(eastMd.CurrentKeyMaterialId, primary.CurrentKeyMaterialId);
    assert.equal(westMd.CurrentKeyMaterialId, eastMd.CurrentKeyMaterialId);
    const rotations = (await west.send(new ListKeyRotationsCommand({ KeyId: primary.KeyId }))).Rotations!;
    assert.deepEqual(rotations.map((r) => r.RotationType), ['ON_DEMAND']);
    // The new material encrypts in one Region and decrypts in the other; the old ciphertext still decrypts.
    const after_ = await east.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: text('after') }));
    const d = await west.send(new DecryptCommand({ CiphertextBlob: after_.CiphertextBlob }));
    assert.equal(Buffer.from(d.Plaintext!).toString(), 'after');
    assert.equal(d.KeyMaterialId, eastMd.CurrentKeyMaterialId);
    assert.equal(Buffer.from((await east.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob }))).Plaintext!).toString(), 'before');

    for (const op of [
      new EnableKeyRotationCommand({ KeyId: primary.KeyId }),
      new DisableKeyRotationCommand({ KeyId: primary.KeyId }),
      new RotateKeyOnDemandCommand({ KeyId: primary.KeyId }),
    ]) {
      const err = await rejection(west.send(op as Parameters<KMSClient['send']>[0]));
      assert.equal(err.name, 'UnsupportedOperationException');
      assert.match(err.message, /multi-Region replica key/);
    }

    // Automatic rotation is set on the primary; its status is the replicas' too, and its rotation reaches them.
    await east.send(new EnableKeyRotationCommand({ KeyId: primary.KeyId, RotationPeriodInDays: 90 }));
    const status = await west.send(new GetKeyRotationStatusCommand({ KeyId: primary.KeyId }));
    assert.equal(status.KeyRotationEnabled, true);
    assert.equal(status.RotationPeriodInDays, 90);
    clock.advance(91 * DAY_MS);
    await server.app.kms.lifecycle.sweep();
    const rotated = await describe_(east, primary.KeyId!);
    assert.notEqual(rotated.CurrentKeyMaterialId, eastMd.CurrentKeyMaterialId);
    assert.equal((await describe_(west, primary.KeyId!)).CurrentKeyMaterialId, rotated.CurrentKeyMaterialId);
    assert.deepEqual((await west.send(new ListKeyRotationsCommand({ KeyId: primary.KeyId }))).Rotations!.map((r) => r.RotationType), ['ON_DEMAND', 'AUTOMATIC']);
    // A replica made after the rotations has every material: the first ciphertext decrypts there too.
    await replicate(primary.KeyId!, SOUTH);
    assert.equal(Buffer.from((await south.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob }))).Plaintext!).toString(), 'before');
    assert.equal((await south.send(new GetKeyRotationStatusCommand({ KeyId: primary.KeyId }))).KeyRotationEnabled, true);
  });

  it('UpdatePrimaryRegion makes the replica the primary and the primary a replica, as DescribeKey of each shows', async () => {
    const primary = await createPrimary();
    await replicate(primary.KeyId!, WEST);
    await replicate(primary.KeyId!, SOUTH);
    await east.send(new UpdatePrimaryRegionCommand({ KeyId: primary.KeyId, PrimaryRegion: WEST }));
    const expected = { PrimaryKey: { Arn: arnIn(WEST, primary.KeyId!), Region: WEST }, ReplicaKeys: [{ Arn: arnIn(SOUTH, primary.KeyId!), Region: SOUTH }, { Arn: primary.Arn, Region: EAST }].sort((a, b) => a.Region.localeCompare(b.Region)) };
    assert.deepEqual((await describe_(west, primary.KeyId!)).MultiRegionConfiguration, { MultiRegionKeyType: 'PRIMARY', ...expected });
    assert.deepEqual((await describe_(east, primary.KeyId!)).MultiRegionConfiguration, { MultiRegionKeyType: 'REPLICA', ...expected });
    assert.deepEqual((await describe_(south, primary.KeyId!)).MultiRegionConfiguration, { MultiRegionKeyType: 'REPLICA', ...expected });
    // Now only the new primary replicates and rotates.
    let err = await rejection(east.send(new UpdatePrimaryRegionCommand({ KeyId: primary.KeyId, PrimaryRegion: SOUTH })));
    assert.equal(err.name, 'UnsupportedOperationException');
    err = await rejection(east.send(new RotateKeyOnDemandCommand({ KeyId: primary.KeyId })));
    assert.equal(err.name, 'UnsupportedOperationException');
    await west.send(new RotateKeyOnDemandCommand({ KeyId: primary.KeyId }));
    assert.equal((await describe_(east, primary.KeyId!)).CurrentKeyMaterialId, (await describe_(west, primary.KeyId!)).CurrentKeyMaterialId);
    // To a Region without a replica: NotFoundException; to its own Region: UnsupportedOperationException.
    const lone = await createPrimary();
    err = await rejection(east.send(new UpdatePrimaryRegionCommand({ KeyId: lone.KeyId, PrimaryRegion: WEST })));
    assert.equal(err.name, 'NotFoundException');
    err = await rejection(east.send(new UpdatePrimaryRegionCommand({ KeyId: lone.KeyId, PrimaryRegion: EAST })));
    assert.equal(err.name, 'UnsupportedOperationException');
    const single = (await east.send(new CreateKeyCommand({}))).KeyMetadata!;
    err = await rejection(east.send(new UpdatePrimaryRegionCommand({ KeyId: single.KeyId, PrimaryRegion: WEST })));
    assert.equal(err.name, 'UnsupportedOperationException');
  });

  it('ReplicateKey errors: AlreadyExistsException, UnsupportedOperationException for a single-Region key, a replica, its own Region or a Region not served; ValidationException for a malformed Region', async () => {
    const primary = await createPrimary();
    await replicate(primary.KeyId!);
    let err = await rejection(replicate(primary.KeyId!));
    assert.equal(err.name, 'AlreadyExistsException');
    assert.equal(err.$metadata?.httpStatusCode, 400);
    const single = (await east.send(new CreateKeyCommand({}))).KeyMetadata!;
    err = await rejection(replicate(single.KeyId!));
    assert.equal(err.name, 'UnsupportedOperationException');
    err = await rejection(west.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: SOUTH })));
    assert.equal(err.name, 'UnsupportedOperationException');
    err = await rejection(replicate(primary.KeyId!, EAST));
    assert.equal(err.name, 'UnsupportedOperationException');
    err = await rejection(replicate(primary.KeyId!, 'sa-east-1'));
    assert.equal(err.name, 'UnsupportedOperationException');
    assert.match(err.message, /STRONGROOM_REGIONS/);
    err = await rejection(replicate(primary.KeyId!, 'moon'));
    assert.equal(err.name, 'ValidationException');
    err = await rejection(east.send(new ReplicateKeyCommand({ KeyId: `alias/none`, ReplicaRegion: SOUTH })));
    assert.equal(err.name, 'NotFoundException');
    // A disabled primary is not replicated.
    await east.send(new DisableKeyCommand({ KeyId: primary.KeyId }));
    err = await rejection(replicate(primary.KeyId!, SOUTH));
    assert.equal(err.name, 'DisabledException');
    await east.send(new EnableKeyCommand({ KeyId: primary.KeyId }));
  });

  it('a disabled replica refuses cryptographic operations with DisabledException while the primary works', async () => {
    const primary = await createPrimary();
    await replicate(primary.KeyId!);
    const ct = await east.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: text('x') }));
    await west.send(new DisableKeyCommand({ KeyId: primary.KeyId }));
    assert.equal((await describe_(west, primary.KeyId!)).KeyState, 'Disabled');
    assert.equal((await describe_(east, primary.KeyId!)).KeyState, 'Enabled');
    assert.equal((await rejection(west.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: text('x') })))).name, 'DisabledException');
    assert.equal((await rejection(west.send(new DecryptCommand({ CiphertextBlob: ct.CiphertextBlob })))).name, 'DisabledException');
    assert.equal(Buffer.from((await east.send(new DecryptCommand({ CiphertextBlob: ct.CiphertextBlob }))).Plaintext!).toString(), 'x');
  });

  it('deletion: a primary with replicas waits in PendingReplicaDeletion; deleting its last replica starts its window; a replica is deleted on its own', async () => {
    const primary = await createPrimary();
    await replicate(primary.KeyId!, WEST);
    await replicate(primary.KeyId!, SOUTH);
    const scheduled = await east.send(new ScheduleKeyDeletionCommand({ KeyId: primary.KeyId, PendingWindowInDays: 7 }));
    assert.equal(scheduled.KeyState, 'PendingReplicaDeletion');
    assert.equal(scheduled.DeletionDate, undefined);
    assert.equal(scheduled.PendingWindowInDays, 7);
    let md = await describe_(east, primary.KeyId!);
    assert.equal(md.KeyState, 'PendingReplicaDeletion');
    assert.equal(md.PendingDeletionWindowInDays, 7);
    assert.equal(md.DeletionDate, undefined);
    assert.equal((await rejection(east.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: text('x') })))).name, 'KMSInvalidStateException');
    assert.equal((await rejection(replicate(primary.KeyId!, SOUTH))).name, 'KMSInvalidStateException');
    // The replicas still work and are deleted on their own.
    await west.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: text('x') }));
    const westDeletion = await west.send(new ScheduleKeyDeletionCommand({ KeyId: primary.KeyId, PendingWindowInDays: 7 }));
    assert.equal(westDeletion.KeyState, 'PendingDeletion');
    assert.ok(westDeletion.DeletionDate instanceof Date);
    clock.advance(8 * DAY_MS);
    await server.app.kms.lifecycle.sweep();
    assert.equal((await rejection(describe_(west, primary.KeyId!))).name, 'NotFoundException');
    assert.equal((await describe_(east, primary.KeyId!)).KeyState, 'PendingReplicaDeletion');
    assert.deepEqual((await describe_(south, primary.KeyId!)).MultiRegionConfiguration!.ReplicaKeys, [{ Arn: arnIn(SOUTH, primary.KeyId!), Region: SOUTH }]);
    // The last replica goes: the primary's 7-day window starts then.
    await south.send(new ScheduleKeyDeletionCommand({ KeyId: primary.KeyId, PendingWindowInDays: 7 }));
    clock.advance(8 * DAY_MS);
    const lastGone = clock.now();
    await server.app.kms.lifecycle.sweep();
    md = await describe_(east, primary.KeyId!);
    assert.equal(md.KeyState, 'PendingDeletion');
    // The window starts when the sweep deleted the last replica (the manual clock also runs with real time).
    assert.ok(Math.abs(md.DeletionDate!.getTime() - (lastGone + 7 * DAY_MS)) < 60_000);
    // Cancelling brings it back Disabled, as for any key.
    await east.send(new CancelKeyDeletionCommand({ KeyId: primary.KeyId }));
    assert.equal((await describe_(east, primary.KeyId!)).KeyState, 'Disabled');

    // A primary without replicas is scheduled like any key; cancelling a PendingReplicaDeletion works too.
    const other = await createPrimary();
    await replicate(other.KeyId!, WEST);
    await east.send(new ScheduleKeyDeletionCommand({ KeyId: other.KeyId, PendingWindowInDays: 7 }));
    await east.send(new CancelKeyDeletionCommand({ KeyId: other.KeyId }));
    assert.equal((await describe_(east, other.KeyId!)).KeyState, 'Disabled');
  });

  it('condition keys: kms:ReplicaRegion, kms:MultiRegion, kms:MultiRegionKeyType and kms:PrimaryRegion decide; ReplicateKey needs kms:ReplicateKey and kms:CreateKey', async () => {
    const iam = clients.iam();
    await iam.send(new CreateUserCommand({ UserName: 'mrk-admin' }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'mrk-admin' }))).AccessKey!;
    const credentials = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
    const setPolicy = async (...statements: Record<string, unknown>[]) =>
      iam.send(new PutUserPolicyCommand({ UserName: 'mrk-admin', PolicyName: 'p', PolicyDocument: policyDocument(...statements) }));
    const userEast = server.kms({ region: EAST, credentials });
    const userWest = server.kms({ region: WEST, credentials });
    const primary = await createPrimary();
    const single = (await east.send(new CreateKeyCommand({}))).KeyMetadata!;

    await setPolicy(
      allow(['kms:CreateKey', 'kms:DescribeKey', 'kms:Encrypt', 'kms:Decrypt']),
      { Effect: 'Allow', Action: 'kms:ReplicateKey', Resource: '*', Condition: { StringEquals: { 'kms:ReplicaRegion': WEST } } },
      { Effect: 'Deny', Action: 'kms:Encrypt', Resource: '*', Condition: { Bool: { 'kms:MultiRegion': 'true' } } },
      { Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'kms:MultiRegionKeyType': 'PRIMARY' } } },
    );
    let err = await rejection(userEast.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: SOUTH })));
    assert.equal(err.name, 'AccessDeniedException');
    assert.match(err.message, /kms:ReplicateKey/);
    await userEast.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: WEST }));
    // kms:MultiRegion: the multi-Region key refuses Encrypt, the single-Region key does not.
    assert.equal((await rejection(userEast.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: text('x') })))).name, 'AccessDeniedException');
    const singleCt = await userEast.send(new EncryptCommand({ KeyId: single.KeyId, Plaintext: text('x') }));
    assert.equal(Buffer.from((await userEast.send(new DecryptCommand({ CiphertextBlob: singleCt.CiphertextBlob }))).Plaintext!).toString(), 'x');
    // kms:MultiRegionKeyType: the primary refuses Decrypt, the replica (REPLICA) allows it.
    const ct = await east.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: text('y') }));
    assert.equal((await rejection(userEast.send(new DecryptCommand({ CiphertextBlob: ct.CiphertextBlob })))).name, 'AccessDeniedException');
    assert.equal(Buffer.from((await userWest.send(new DecryptCommand({ CiphertextBlob: ct.CiphertextBlob }))).Plaintext!).toString(), 'y');

    // Without kms:CreateKey (in the replica Region) ReplicateKey is denied even with kms:ReplicateKey.
    const second = await createPrimary();
    await setPolicy(allow(['kms:ReplicateKey', 'kms:DescribeKey']));
    err = await rejection(userEast.send(new ReplicateKeyCommand({ KeyId: second.KeyId, ReplicaRegion: WEST })));
    assert.equal(err.name, 'AccessDeniedException');
    assert.match(err.message, /kms:CreateKey/);
    await setPolicy(allow(['kms:ReplicateKey', 'kms:DescribeKey']), { Effect: 'Allow', Action: 'kms:CreateKey', Resource: '*', Condition: { StringEquals: { 'kms:MultiRegionKeyType': 'REPLICA', 'aws:RequestedRegion': WEST } } });
    await userEast.send(new ReplicateKeyCommand({ KeyId: second.KeyId, ReplicaRegion: WEST }));

    // kms:PrimaryRegion on UpdatePrimaryRegion (needed on the primary and on the replica).
    await setPolicy({ Effect: 'Allow', Action: 'kms:UpdatePrimaryRegion', Resource: '*', Condition: { StringEquals: { 'kms:PrimaryRegion': SOUTH } } });
    err = await rejection(userEast.send(new UpdatePrimaryRegionCommand({ KeyId: second.KeyId, PrimaryRegion: WEST })));
    assert.equal(err.name, 'AccessDeniedException');
    await setPolicy({ Effect: 'Allow', Action: 'kms:UpdatePrimaryRegion', Resource: '*', Condition: { StringEquals: { 'kms:PrimaryRegion': WEST } } });
    await userEast.send(new UpdatePrimaryRegionCommand({ KeyId: second.KeyId, PrimaryRegion: WEST }));
    assert.equal((await describe_(west, second.KeyId!)).MultiRegionConfiguration!.MultiRegionKeyType, 'PRIMARY');
    // kms:UpdatePrimaryRegion is needed on the replica too: its own key policy can refuse it.
    const third = await createPrimary();
    await replicate(third.KeyId!, WEST, {
      Policy: policyDocument(
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
        { Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:user/mrk-admin` }, Action: 'kms:UpdatePrimaryRegion', Resource: '*' },
      ),
    });
    err = await rejection(userEast.send(new UpdatePrimaryRegionCommand({ KeyId: third.KeyId, PrimaryRegion: WEST })));
    assert.equal(err.name, 'AccessDeniedException');
    assert.equal((await describe_(east, third.KeyId!)).MultiRegionConfiguration!.MultiRegionKeyType, 'PRIMARY');
  });

  it('audit: ReplicateKey is a ReplicateKey record in the primary\'s Region and a CreateKey record in the replica\'s; UpdatePrimaryRegion is recorded with its parameters', async () => {
    const primary = await createPrimary();
    await replicate(primary.KeyId!, SOUTH, { Description: 'audited replica' });
    await east.send(new UpdatePrimaryRegionCommand({ KeyId: primary.KeyId, PrimaryRegion: SOUTH }));
    const trailIn = (region: string) => new CloudTrailClient({ endpoint: server.url, region, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    const eastTrail = trailIn(EAST);
    const southTrail = trailIn(SOUTH);
    try {
      const events = async (trail: CloudTrailClient, name: string) =>
        ((await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: name }], MaxResults: 50 }))).Events ?? [])
          .map((ev) => JSON.parse(ev.CloudTrailEvent!) as Record<string, any>);
      const replicated = (await events(eastTrail, 'ReplicateKey')).find((r) => r.requestParameters?.keyId === primary.KeyId && r.requestParameters?.replicaRegion === SOUTH);
      assert.ok(replicated, 'no ReplicateKey record in the primary Region');
      assert.equal(replicated.awsRegion, EAST);
      assert.deepEqual(replicated.requestParameters, { keyId: primary.KeyId, replicaRegion: SOUTH, description: 'audited replica' });
      assert.equal(replicated.responseElements.replicaKeyMetadata.arn, arnIn(SOUTH, primary.KeyId!));
      assert.equal(replicated.responseElements.replicaKeyMetadata.multiRegionConfiguration.multiRegionKeyType, 'REPLICA');
      const created = (await events(southTrail, 'CreateKey')).find((r) => r.responseElements?.keyMetadata?.keyId === primary.KeyId);
      assert.ok(created, 'no CreateKey record in the replica Region');
      assert.equal(created.awsRegion, SOUTH);
      assert.equal(created.requestParameters.multiRegion, true);
      assert.equal(created.requestParameters.description, 'audited replica');
      assert.equal(created.requestID, replicated.requestID);
      const updated = (await events(eastTrail, 'UpdatePrimaryRegion')).find((r) => r.requestParameters?.keyId === primary.KeyId);
      assert.ok(updated, 'no UpdatePrimaryRegion record');
      assert.deepEqual(updated.requestParameters, { keyId: primary.KeyId, primaryRegion: SOUTH });
      assert.equal(updated.errorCode, undefined);
    } finally {
      eastTrail.destroy();
      southTrail.destroy();
    }
  });

  it('the aws CLI replicates a key and describes the replica in its Region', async () => {
    const primary = await createPrimary();
    const run = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) =>
        execFile('aws', [...args, '--endpoint-url', server.url, '--output', 'json'], { env: awsClientEnv(), timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) => {
          if (err && typeof err.code !== 'number') return reject(err);
          resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
        }),
      );
    const rep = await run('kms', 'replicate-key', '--key-id', primary.KeyId!, '--replica-region', WEST, '--region', EAST);
    assert.equal(rep.code, 0, rep.stderr);
    assert.equal(JSON.parse(rep.stdout).ReplicaKeyMetadata.Arn, arnIn(WEST, primary.KeyId!));
    const desc = await run('kms', 'describe-key', '--key-id', primary.KeyId!, '--region', WEST);
    assert.equal(desc.code, 0, desc.stderr);
    assert.equal(JSON.parse(desc.stdout).KeyMetadata.MultiRegionConfiguration.MultiRegionKeyType, 'REPLICA');
    const again = await run('kms', 'replicate-key', '--key-id', primary.KeyId!, '--replica-region', WEST, '--region', EAST);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /AlreadyExistsException/);
  });
});

describe('KMS multi-Region keys on PostgreSQL, two nodes on one database', { skip: postgresSkip() }, () => {
  let a: TestServer;
  let b: TestServer;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-mrk-'));
    const databaseUrl = await (await postgresCluster()).createDatabase();
    const regions = `${EAST},${WEST}`;
    a = await startServer({ databaseUrl, regions, dataDir: join(dir, 'a'), rootOfTrustFile: join(dir, 'root.key') });
    b = await startServer({ databaseUrl, regions, dataDir: join(dir, 'b'), rootOfTrustFile: join(dir, 'root.key') });
  });
  after(async () => {
    await a?.destroy();
    await b?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a replica made on one node is seen by the other; a rotation on the other reaches the replica; both decrypt across Regions', async () => {
    const aEast = a.kms({ region: EAST });
    const bEast = b.kms({ region: EAST });
    const bWest = b.kms({ region: WEST });
    const aWest = a.kms({ region: WEST });
    const primary = (await aEast.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!;
    await aEast.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: WEST }));
    const seen = (await bWest.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!;
    assert.equal(seen.MultiRegionConfiguration!.MultiRegionKeyType, 'REPLICA');
    assert.equal((await bEast.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!.MultiRegionConfiguration!.ReplicaKeys!.length, 1);
    await bEast.send(new RotateKeyOnDemandCommand({ KeyId: primary.KeyId }));
    const ct = await bEast.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: Buffer.from('node b, us-east-1') }));
    const d = await aWest.send(new DecryptCommand({ CiphertextBlob: ct.CiphertextBlob }));
    assert.equal(Buffer.from(d.Plaintext!).toString(), 'node b, us-east-1');
    assert.notEqual(d.KeyMaterialId, primary.CurrentKeyMaterialId);
    assert.equal((await rejection(bEast.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: WEST })))).name, 'AlreadyExistsException');
    await bEast.send(new UpdatePrimaryRegionCommand({ KeyId: primary.KeyId, PrimaryRegion: WEST }));
    assert.equal((await aEast.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!.MultiRegionConfiguration!.MultiRegionKeyType, 'REPLICA');
  });
});
