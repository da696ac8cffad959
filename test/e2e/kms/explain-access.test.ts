import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SecretBytes } from '../../../src/core/crypto/secret-bytes.js';
import { CredentialStore } from '../../../src/core/identity/credentials.js';
import { Clients, Credentials, allow, policyDocument } from '../../helpers/query-clients.js';
import { RawResponse, sendRaw, signedJsonRequest } from '../../helpers/raw-request.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';

/**
 * Issue 9 item 2: POST /_strongroom/explain shows a key policy and the subject's policies, so it needs the rights
 * AWS needs to read them (kms:GetKeyPolicy and kms:ListGrants on the key, decided as KMS decides them;
 * iam:SimulatePrincipalPolicy on the subject), answers another account's key exactly as GetKeyPolicy does
 * whether or not the key exists, and is recorded in the audit log like any call.
 */
const OTHER_ACCOUNT = '444455556666';
const OTHER_ROOT = { accessKeyId: 'AKIAOTHERROOT0000001', secretAccessKey: 'other-account-root-secret-000000000000001' };

describe('POST /_strongroom/explain: authorized and audited like GetKeyPolicy', () => {
  let server: TestServer;
  let clients: Clients;
  let keyArn: string;
  let otherKeyArn: string;

  const explain = async (query: Record<string, unknown>, credentials: Credentials = TEST_CREDENTIALS): Promise<RawResponse> =>
    sendRaw(server.url, await signedJsonRequest(server.url, 'explain', JSON.stringify(query), { path: '/_strongroom/explain', credentials }));
  const errorOf = (res: RawResponse) => JSON.parse(res.body.toString()) as { __type: string; message: string };
  const getKeyPolicyError = async (kms: KMSClient, keyId: string) => {
    const err = await rejection(kms.send(new GetKeyPolicyCommand({ KeyId: keyId })));
    return { __type: err.name, message: err.message };
  };

  before(async () => {
    server = await startServer();
    clients = new Clients(server);
    keyArn = (await clients.kms().send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    // A second account with its root user's access key, and a key of its own (default key policy: its account only).
    const { store, root, clock } = server.app.kms.deps;
    await store.createAccount({ accountId: OTHER_ACCOUNT, createdAt: clock.now() });
    await new CredentialStore(store, root).put(
      { accessKeyId: OTHER_ROOT.accessKeyId, accountId: OTHER_ACCOUNT, principalArn: `arn:aws:iam::${OTHER_ACCOUNT}:root`, principalType: 'Root', principalId: OTHER_ACCOUNT, status: 'Active', createdAt: clock.now() },
      SecretBytes.adopt(Buffer.from(OTHER_ROOT.secretAccessKey, 'utf8')),
    );
    otherKeyArn = (await clients.kms(OTHER_ROOT).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
  });

  it("another account's key is refused as GetKeyPolicy refuses it: AccessDeniedException with AWS's text, the same whether or not the key exists", async () => {
    const query = { principal: `arn:aws:iam::${TEST_ACCOUNT}:root`, action: 'kms:Decrypt' };
    const existing = await explain({ ...query, key: otherKeyArn });
    assert.equal(existing.status, 400);
    assert.deepEqual(errorOf(existing), {
      __type: 'AccessDeniedException',
      message: `User: arn:aws:iam::${TEST_ACCOUNT}:root is not authorized to perform: kms:GetKeyPolicy on resource: ${otherKeyArn} because no resource-based policy allows the kms:GetKeyPolicy action`,
    });
    assert.doesNotMatch(existing.body.toString(), /Statement|Version/);
    assert.deepEqual(errorOf(existing), await getKeyPolicyError(clients.kms(), otherKeyArn));

    const missingArn = `arn:aws:kms:${TEST_REGION}:${OTHER_ACCOUNT}:key/${randomUUID()}`;
    const missing = await explain({ ...query, key: missingArn });
    assert.equal(missing.status, existing.status);
    assert.deepEqual(errorOf(missing), { __type: 'AccessDeniedException', message: errorOf(existing).message.replace(otherKeyArn, missingArn) });
    // GetKeyPolicy itself no longer tells a missing key of another account from an existing one.
    assert.deepEqual(errorOf(missing), await getKeyPolicyError(clients.kms(), missingArn));
  });

  it("another account's key whose key policy grants this account kms:* is still refused, as GetKeyPolicy (Cross-account use: No) refuses it", async () => {
    const otherKms = clients.kms(OTHER_ROOT);
    const shared = (await otherKms.send(new CreateKeyCommand({
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'owner', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
          { Sid: 'everything to the other account', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
        ],
      }),
    }))).KeyMetadata!.Arn!;
    const res = await explain({ principal: `arn:aws:iam::${TEST_ACCOUNT}:root`, action: 'kms:Decrypt', key: shared });
    assert.equal(res.status, 400);
    assert.deepEqual(errorOf(res), {
      __type: 'AccessDeniedException',
      message: `User: arn:aws:iam::${TEST_ACCOUNT}:root is not authorized to perform: kms:GetKeyPolicy on resource: ${shared} because no resource-based policy allows the kms:GetKeyPolicy action`,
    });
    assert.deepEqual(errorOf(res), await getKeyPolicyError(clients.kms(), shared));
  });

  it('an IAM user needs kms:GetKeyPolicy and kms:ListGrants on the key and iam:SimulatePrincipalPolicy on the subject', async () => {
    const iam = clients.iam();
    await iam.send(new CreateUserCommand({ UserName: 'dora' }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'dora' }));
    const dora = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
    const doraArn = `arn:aws:iam::${TEST_ACCOUNT}:user/dora`;
    /** Dora's policy: Decrypt and `actions` on the key, SimulatePrincipalPolicy on `simulate`. */
    const setPolicy = (actions: string[], simulate = `arn:aws:iam::${TEST_ACCOUNT}:user/nobody`) =>
      iam.send(new PutUserPolicyCommand({ UserName: 'dora', PolicyName: 'p', PolicyDocument: policyDocument(allow(['kms:Decrypt', ...actions], keyArn), allow('iam:SimulatePrincipalPolicy', simulate)) }));
    const query = { principal: doraArn, action: 'kms:Decrypt', key: keyArn };

    await setPolicy([]);
    const noRights = await explain(query, dora);
    assert.equal(noRights.status, 400);
    assert.deepEqual(errorOf(noRights), {
      __type: 'AccessDeniedException',
      message: `User: ${doraArn} is not authorized to perform: kms:GetKeyPolicy on resource: ${keyArn} because no identity-based policy allows the kms:GetKeyPolicy action`,
    });
    assert.deepEqual(errorOf(noRights), await getKeyPolicyError(clients.kms(dora), keyArn));

    await setPolicy(['kms:GetKeyPolicy']);
    assert.equal(errorOf(await explain(query, dora)).message, `User: ${doraArn} is not authorized to perform: kms:ListGrants on resource: ${keyArn} because no identity-based policy allows the kms:ListGrants action`);

    await setPolicy(['kms:GetKeyPolicy', 'kms:ListGrants']);
    const noSimulate = await explain(query, dora);
    assert.deepEqual(errorOf(noSimulate), {
      __type: 'AccessDeniedException',
      message: `User: ${doraArn} is not authorized to perform: iam:SimulatePrincipalPolicy on resource: ${doraArn} because no identity-based policy allows the iam:SimulatePrincipalPolicy action`,
    });

    await setPolicy(['kms:GetKeyPolicy', 'kms:ListGrants'], doraArn);
    const allowed = await explain(query, dora);
    assert.equal(allowed.status, 200, allowed.body.toString());
    const e = JSON.parse(allowed.body.toString());
    assert.equal(e.decision, 'Allow');
    assert.equal(e.basis, 'key-policy-and-identity-policy');
    // Another user's explanation needs SimulatePrincipalPolicy on that user.
    const other = await explain({ ...query, principal: `arn:aws:iam::${TEST_ACCOUNT}:user/someone` }, dora);
    assert.match(errorOf(other).message, /iam:SimulatePrincipalPolicy on resource: arn:aws:iam::111122223333:user\/someone because/);
  });

  it("explaining another account's principal on one's own key files no record in that account (only the caller's)", async () => {
    const otherTrail = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: OTHER_ROOT, maxAttempts: 1 });
    try {
      const explainsSeenByOther = async () =>
        ((await otherTrail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'Explain' }], MaxResults: 50 }))).Events ?? []).length;
      const before = await explainsSeenByOther();
      const res = await explain({ principal: `arn:aws:iam::${OTHER_ACCOUNT}:user/nobody`, action: 'kms:Encrypt', key: keyArn });
      assert.equal(errorOf(res).__type, 'AccessDeniedException');
      const res2 = await explain({ principal: 'arn:aws:iam::999988887777:user/nobody', action: 'kms:Encrypt', key: keyArn });
      assert.equal(errorOf(res2).__type, 'AccessDeniedException');
      assert.equal(await explainsSeenByOther(), before);
    } finally {
      otherTrail.destroy();
    }
  });

  it('every explain call, allowed or denied, is a record in the audit log (LookupEvents EventName Explain)', async () => {
    const trail = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    try {
      const records = async () =>
        ((await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'Explain' }], MaxResults: 50 }))).Events ?? []).map(
          (ev) => JSON.parse(ev.CloudTrailEvent!) as Record<string, unknown>,
        );
      const before = (await records()).length;
      const ok = await explain({ principal: `arn:aws:iam::${TEST_ACCOUNT}:root`, action: 'kms:Encrypt', key: keyArn });
      assert.equal(ok.status, 200);
      const denied = await explain({ principal: `arn:aws:iam::${TEST_ACCOUNT}:root`, action: 'kms:Encrypt', key: otherKeyArn });
      assert.equal(denied.status, 400);
      const after = await records();
      assert.equal(after.length, before + 2);
      const [last, first] = after;
      assert.equal(first!.eventSource, 'kms.amazonaws.com');
      assert.equal(first!.readOnly, true);
      assert.equal(first!.errorCode, undefined);
      assert.deepEqual(first!.requestParameters, { principal: `arn:aws:iam::${TEST_ACCOUNT}:root`, action: 'kms:Encrypt', key: keyArn });
      assert.deepEqual(first!.resources, [{ accountId: TEST_ACCOUNT, type: 'AWS::KMS::Key', ARN: keyArn }]);
      assert.equal(last!.errorCode, 'AccessDeniedException');
      assert.match(String(last!.errorMessage), /kms:GetKeyPolicy/);
      // The answer (the key policy) is not copied into the record.
      assert.equal(first!.responseElements, null);
    } finally {
      trail.destroy();
    }
  });
});
