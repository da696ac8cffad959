import {
  CancelKeyDeletionCommand, CreateAliasCommand, CreateKeyCommand, DeleteAliasCommand, DescribeKeyCommand,
  DisableKeyCommand, EnableKeyCommand, GetKeyPolicyCommand, KMSClient, ListAliasesCommand, ListKeyPoliciesCommand,
  ListKeysCommand, ListResourceTagsCommand, PutKeyPolicyCommand, ScheduleKeyDeletionCommand, TagResourceCommand,
  UntagResourceCommand, UpdateAliasCommand, UpdateKeyDescriptionCommand, paginateListKeys,
} from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_ACCOUNT, TestServer, rejection, startServer } from '../../helpers/server.js';

describe('KMS key management over HTTP with @aws-sdk/client-kms', () => {
  let server: TestServer;
  let kms: KMSClient;

  before(async () => {
    server = await startServer();
    kms = server.kms();
  });
  after(() => server.destroy());

  const newKey = async (params = {}) => (await kms.send(new CreateKeyCommand(params))).KeyMetadata!;

  it('CreateKey returns the KeyMetadata AWS returns for a symmetric key, and DescribeKey the same', async () => {
    const md = await newKey({ Description: 'payroll', Tags: [{ TagKey: 'team', TagValue: 'hr' }] });
    assert.match(md.KeyId!, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(md.Arn, `arn:aws:kms:us-east-1:${TEST_ACCOUNT}:key/${md.KeyId}`);
    assert.equal(md.AWSAccountId, TEST_ACCOUNT);
    assert.equal(md.Description, 'payroll');
    assert.equal(md.Enabled, true);
    assert.equal(md.KeyState, 'Enabled');
    assert.equal(md.KeyUsage, 'ENCRYPT_DECRYPT');
    assert.equal(md.KeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(md.CustomerMasterKeySpec, 'SYMMETRIC_DEFAULT');
    assert.deepEqual(md.EncryptionAlgorithms, ['SYMMETRIC_DEFAULT']);
    assert.equal(md.Origin, 'AWS_KMS');
    assert.equal(md.KeyManager, 'CUSTOMER');
    assert.equal(md.MultiRegion, false);
    assert.ok(md.CreationDate instanceof Date && Math.abs(md.CreationDate.getTime() - Date.now()) < 60_000);
    const described = (await kms.send(new DescribeKeyCommand({ KeyId: md.Arn }))).KeyMetadata!;
    assert.deepEqual(described, md);
    const tags = await kms.send(new ListResourceTagsCommand({ KeyId: md.KeyId }));
    assert.deepEqual(tags.Tags, [{ TagKey: 'team', TagValue: 'hr' }]);
  });

  it('a key created without a policy gets the AWS default key policy', async () => {
    const md = await newKey();
    const p = await kms.send(new GetKeyPolicyCommand({ KeyId: md.KeyId, PolicyName: 'default' }));
    assert.equal(p.PolicyName, 'default');
    const doc = JSON.parse(p.Policy!);
    assert.equal(doc.Id, 'key-default-1');
    assert.deepEqual(doc.Statement[0].Principal, { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` });
    assert.equal(doc.Statement[0].Action, 'kms:*');
    assert.deepEqual((await kms.send(new ListKeyPoliciesCommand({ KeyId: md.KeyId }))).PolicyNames, ['default']);
  });

  it('PutKeyPolicy stores a policy and GetKeyPolicy returns it; a malformed one is MalformedPolicyDocumentException', async () => {
    const md = await newKey();
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'admin', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
        { Sid: 'decrypt', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:Decrypt', Resource: '*' },
      ],
    });
    await kms.send(new PutKeyPolicyCommand({ KeyId: md.KeyId, Policy: policy, PolicyName: 'default' }));
    assert.equal((await kms.send(new GetKeyPolicyCommand({ KeyId: md.KeyId }))).Policy, policy);
    for (const bad of ['not json', '[]', '{"Version":"2012-10-17"}', '{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"kms:*","Resource":"*"}]}']) {
      const err = await rejection(kms.send(new PutKeyPolicyCommand({ KeyId: md.KeyId, Policy: bad })));
      assert.equal(err.name, 'MalformedPolicyDocumentException', bad);
    }
    const err = await rejection(kms.send(new CreateKeyCommand({ Policy: '{' })));
    assert.equal(err.name, 'MalformedPolicyDocumentException');
  });

  it('the policy lockout safety check refuses a policy the caller could not change again, unless bypassed', async () => {
    const md = await newKey();
    const lockout = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:Decrypt', Resource: '*' }] });
    const refused = await rejection(kms.send(new PutKeyPolicyCommand({ KeyId: md.KeyId, Policy: lockout })));
    assert.equal(refused.name, 'MalformedPolicyDocumentException');
    assert.match(refused.message, /will not allow you to update the key policy/);
    assert.equal((await rejection(kms.send(new CreateKeyCommand({ Policy: lockout })))).name, 'MalformedPolicyDocumentException');
    // Bypassed: stored, and enforced — even the account's root can no longer read or change the policy.
    await kms.send(new PutKeyPolicyCommand({ KeyId: md.KeyId, Policy: lockout, BypassPolicyLockoutSafetyCheck: true }));
    const denied = await rejection(kms.send(new GetKeyPolicyCommand({ KeyId: md.KeyId })));
    assert.equal(denied.name, 'AccessDeniedException');
    assert.equal(
      denied.message,
      `User: arn:aws:iam::${TEST_ACCOUNT}:root is not authorized to perform: kms:GetKeyPolicy on resource: ${md.Arn} because no resource-based policy allows the kms:GetKeyPolicy action`,
    );
  });

  it('EnableKey and DisableKey change the state; UpdateKeyDescription changes the description', async () => {
    const md = await newKey();
    await kms.send(new DisableKeyCommand({ KeyId: md.KeyId }));
    let d = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    assert.equal(d.KeyState, 'Disabled');
    assert.equal(d.Enabled, false);
    await kms.send(new EnableKeyCommand({ KeyId: md.Arn }));
    await kms.send(new UpdateKeyDescriptionCommand({ KeyId: md.KeyId, Description: 'renamed' }));
    d = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    assert.equal(d.KeyState, 'Enabled');
    assert.equal(d.Description, 'renamed');
  });

  it('ScheduleKeyDeletion (7–30 days) marks the key PendingDeletion; CancelKeyDeletion brings it back Disabled', async () => {
    const md = await newKey();
    for (const days of [6, 31]) {
      const err = await rejection(kms.send(new ScheduleKeyDeletionCommand({ KeyId: md.KeyId, PendingWindowInDays: days })));
      assert.equal(err.name, 'ValidationException', `window ${days}`);
    }
    const s = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: md.KeyId, PendingWindowInDays: 7 }));
    assert.equal(s.KeyId, md.Arn);
    assert.equal(s.KeyState, 'PendingDeletion');
    assert.equal(s.PendingWindowInDays, 7);
    assert.ok(Math.abs(s.DeletionDate!.getTime() - (Date.now() + 7 * 86_400_000)) < 60_000);
    const d = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    assert.equal(d.KeyState, 'PendingDeletion');
    assert.equal(d.PendingDeletionWindowInDays, 7);
    for (const call of [
      kms.send(new ScheduleKeyDeletionCommand({ KeyId: md.KeyId })),
      kms.send(new EnableKeyCommand({ KeyId: md.KeyId })),
      kms.send(new DisableKeyCommand({ KeyId: md.KeyId })),
      kms.send(new TagResourceCommand({ KeyId: md.KeyId, Tags: [{ TagKey: 'a', TagValue: 'b' }] })),
    ]) {
      assert.equal((await rejection(call)).name, 'KMSInvalidStateException');
    }
    const c = await kms.send(new CancelKeyDeletionCommand({ KeyId: md.KeyId }));
    assert.equal(c.KeyId, md.Arn);
    const after = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    assert.equal(after.KeyState, 'Disabled');
    assert.equal(after.DeletionDate, undefined);
    assert.equal((await rejection(kms.send(new CancelKeyDeletionCommand({ KeyId: md.KeyId })))).name, 'KMSInvalidStateException');
  });

  it('aliases: create, resolve, update to another key, list (all and by key), delete', async () => {
    const a = await newKey();
    const b = await newKey();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/app', TargetKeyId: a.KeyId }));
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/app' }))).KeyMetadata!.KeyId, a.KeyId);
    const dup = await rejection(kms.send(new CreateAliasCommand({ AliasName: 'alias/app', TargetKeyId: b.KeyId })));
    assert.equal(dup.name, 'AlreadyExistsException');
    assert.match(dup.message, /alias\/app already exists/);
    await kms.send(new UpdateAliasCommand({ AliasName: 'alias/app', TargetKeyId: b.Arn }));
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: `arn:aws:kms:us-east-1:${TEST_ACCOUNT}:alias/app` }))).KeyMetadata!.KeyId, b.KeyId);
    const listed = (await kms.send(new ListAliasesCommand({}))).Aliases!.find((x) => x.AliasName === 'alias/app')!;
    assert.equal(listed.TargetKeyId, b.KeyId);
    assert.equal(listed.AliasArn, `arn:aws:kms:us-east-1:${TEST_ACCOUNT}:alias/app`);
    assert.ok(listed.CreationDate instanceof Date && listed.LastUpdatedDate instanceof Date);
    assert.deepEqual((await kms.send(new ListAliasesCommand({ KeyId: a.KeyId }))).Aliases, []);
    assert.deepEqual((await kms.send(new ListAliasesCommand({ KeyId: b.Arn }))).Aliases!.map((x) => x.AliasName), ['alias/app']);
    await kms.send(new DeleteAliasCommand({ AliasName: 'alias/app' }));
    assert.equal((await rejection(kms.send(new DescribeKeyCommand({ KeyId: 'alias/app' })))).name, 'NotFoundException');
    assert.equal((await rejection(kms.send(new DeleteAliasCommand({ AliasName: 'alias/app' })))).name, 'NotFoundException');
  });

  it('alias names are checked: alias/ prefix required, alias/aws/ reserved, bad characters refused', async () => {
    const k = await newKey();
    const cases: [string, string][] = [
      ['payroll', 'InvalidAliasNameException'],
      ['alias/with space', 'ValidationException'],
    ];
    for (const [name, code] of cases) {
      assert.equal((await rejection(kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: k.KeyId })))).name, code, name);
    }
    const viaAlias = await rejection(kms.send(new CreateAliasCommand({ AliasName: 'alias/x', TargetKeyId: 'alias/other' })));
    assert.equal(viaAlias.name, 'NotFoundException');
  });

  it('alias/aws/ names are refused as KMS refuses them: CreateAlias, UpdateAlias and DeleteAlias answer 400 NotAuthorizedException with no message, and alias/aws/s3 keeps pointing to the AWS managed key', async () => {
    const k = await newKey();
    const managed = await server.app.kms.awsManaged.ensure({ accountId: TEST_ACCOUNT, region: 'us-east-1' }, 's3', async () => {});
    const refused = async (call: Promise<unknown>, what: string) => {
      const err = await rejection(call);
      assert.equal(err.name, 'NotAuthorizedException', what);
      assert.equal(err.$metadata?.httpStatusCode, 400, what);
      assert.equal(err.message, 'UnknownError', `${what}: no message (the SDK then shows UnknownError)`);
    };
    for (const name of ['alias/aws/mine', 'alias/aws/s3', 'alias/aws/']) {
      await refused(kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: k.KeyId })), `CreateAlias ${name}`);
    }
    await refused(kms.send(new UpdateAliasCommand({ AliasName: 'alias/aws/s3', TargetKeyId: k.KeyId })), 'UpdateAlias alias/aws/s3');
    await refused(kms.send(new UpdateAliasCommand({ AliasName: 'alias/aws/none', TargetKeyId: k.KeyId })), 'UpdateAlias alias/aws/none');
    await refused(kms.send(new DeleteAliasCommand({ AliasName: 'alias/aws/s3' })), 'DeleteAlias alias/aws/s3');
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }))).KeyMetadata!.KeyId, managed.keyId);
    assert.deepEqual((await kms.send(new ListAliasesCommand({ KeyId: k.KeyId }))).Aliases, []);
  });

  it('keys are addressable only in the forms each operation accepts; unknown keys are NotFoundException', async () => {
    const k = await newKey();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/forms', TargetKeyId: k.KeyId }));
    // EnableKey takes a key id or key ARN, not an alias (API reference: "Specify the key ID or key ARN").
    assert.equal((await rejection(kms.send(new EnableKeyCommand({ KeyId: 'alias/forms' })))).name, 'NotFoundException');
    for (const ref of ['00000000-0000-0000-0000-000000000000', 'not-a-key', `arn:aws:kms:us-east-1:${TEST_ACCOUNT}:key/00000000-0000-0000-0000-000000000000`, 'arn:aws:kms:bogus']) {
      const err = await rejection(kms.send(new DescribeKeyCommand({ KeyId: ref })));
      assert.equal(err.name, 'NotFoundException', ref);
    }
  });

  it('ListKeys pages with Limit, Marker, NextMarker and Truncated, and the SDK paginator sees every key once', async () => {
    const made = new Set<string>();
    for (let i = 0; i < 5; i++) made.add((await newKey()).KeyId!);
    const first = await kms.send(new ListKeysCommand({ Limit: 2 }));
    assert.equal(first.Keys!.length, 2);
    assert.equal(first.Truncated, true);
    assert.ok(first.NextMarker);
    const second = await kms.send(new ListKeysCommand({ Limit: 2, Marker: first.NextMarker }));
    assert.notDeepEqual(second.Keys, first.Keys);
    const seen: string[] = [];
    for await (const page of paginateListKeys({ client: kms, pageSize: 3 }, {})) seen.push(...page.Keys!.map((k) => k.KeyId!));
    assert.equal(new Set(seen).size, seen.length);
    for (const id of made) assert.ok(seen.includes(id));
    const bad = await rejection(kms.send(new ListKeysCommand({ Marker: 'garbage!' })));
    assert.equal(bad.name, 'InvalidMarkerException');
    assert.equal((await rejection(kms.send(new ListKeysCommand({ Limit: 1001 })))).name, 'ValidationException');
  });

  it('tags: TagResource adds and overwrites, UntagResource removes, aws: keys are reserved', async () => {
    const k = await newKey();
    await kms.send(new TagResourceCommand({ KeyId: k.KeyId, Tags: [{ TagKey: 'a', TagValue: '1' }, { TagKey: 'b', TagValue: '2' }] }));
    await kms.send(new TagResourceCommand({ KeyId: k.KeyId, Tags: [{ TagKey: 'a', TagValue: '3' }] }));
    await kms.send(new UntagResourceCommand({ KeyId: k.KeyId, TagKeys: ['b'] }));
    assert.deepEqual((await kms.send(new ListResourceTagsCommand({ KeyId: k.KeyId }))).Tags, [{ TagKey: 'a', TagValue: '3' }]);
    const err = await rejection(kms.send(new TagResourceCommand({ KeyId: k.KeyId, Tags: [{ TagKey: 'aws:x', TagValue: '1' }] })));
    assert.equal(err.name, 'TagException');
  });

  it('the key spec Strongroom cannot make (SM2, China Regions only) is UnsupportedOperationException', async () => {
    for (const KeySpec of ['SM2'] as const) {
      const err = await rejection(kms.send(new CreateKeyCommand({ KeySpec, KeyUsage: 'SIGN_VERIFY' })));
      assert.equal(err.name, 'UnsupportedOperationException');
      assert.match(err.message, new RegExp(`KeySpec ${KeySpec} is not supported yet`));
    }
  });
});
