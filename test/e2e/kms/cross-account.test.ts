import * as sdk from '@aws-sdk/client-kms';
import {
  CreateAliasCommand, CreateGrantCommand, CreateKeyCommand, DecapsulateCommand, DecryptCommand, DeriveSharedSecretCommand, DescribeKeyCommand,
  EncapsulateCommand, EncryptCommand, GenerateDataKeyCommand, GenerateDataKeyPairCommand, GenerateDataKeyPairWithoutPlaintextCommand,
  GenerateDataKeyWithoutPlaintextCommand, GenerateMacCommand, GetKeyPolicyCommand, GetKeyRotationStatusCommand, GetPublicKeyCommand, KMSClient,
  ListAliasesCommand, ListGrantsCommand, ListResourceTagsCommand, ReEncryptCommand, RetireGrantCommand, RevokeGrantCommand, SignCommand,
  VerifyCommand, VerifyMacCommand,
} from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { KMS_MODEL, KMS_OPERATIONS } from '../../../src/services/kms/index.js';
import { Shape } from '../../../src/services/shapes.js';
import { sendRaw, signedJsonRequest } from '../../helpers/raw-request.js';
import { TEST_ACCOUNT, TestServer, startServer } from '../../helpers/server.js';

const run = promisify(execFile);
const ACCT_B = '444455556666';
const ROOT_A = `arn:aws:iam::${TEST_ACCOUNT}:root`;
const ROOT_B = `arn:aws:iam::${ACCT_B}:root`;

/**
 * AWS's "Cross-account use: Yes" operations, from each operation's API reference page and the Developer Guide's
 * "Allowing users in other accounts to use a KMS key". Every other operation is "No" (or, for GenerateRandom,
 * ListKeys, CreateKey, custom key stores, "not applicable": they name no key).
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html
 */
const AWS_CROSS_ACCOUNT = [
  'CreateGrant', 'Decapsulate', 'Decrypt', 'DeriveSharedSecret', 'DescribeKey', 'Encapsulate', 'Encrypt', 'GenerateDataKey',
  'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', 'GenerateDataKeyWithoutPlaintext', 'GenerateMac', 'GetKeyRotationStatus',
  'GetPublicKey', 'ListGrants', 'ReEncrypt', 'RetireGrant', 'RevokeGrant', 'Sign', 'Verify', 'VerifyMac',
].sort();

const shapes = KMS_MODEL.shapes as Record<string, Shape & Record<string, any>>;

/** The input members of an operation that name a key (shape KeyIdType: KeyId, TargetKeyId, SourceKeyId, …). */
function keyMembers(op: string): string[] {
  const input = shapes[KMS_MODEL.operations[op]!.input]!;
  return Object.entries(input.members as Record<string, { shape: string }>).filter(([, m]) => m.shape === 'KeyIdType').map(([n]) => n);
}

/**
 * A valid request for `op` built from the model alone — every required member, and every key member naming
 * `keyArn` — so an operation added later is probed without anyone writing its case.
 */
function probeInput(op: string, keyArn: string): Record<string, unknown> {
  const overrides: Record<string, unknown> = {
    AliasName: op === 'CreateAlias' ? 'alias/xacct-new' : 'alias/xacct-b',
    Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: ROOT_B }, Action: 'kms:*', Resource: '*' }] }),
    PolicyName: 'default',
    ReplicaRegion: 'us-west-2',
    PrimaryRegion: 'us-west-2',
    Description: 'taken over',
  };
  const fill = (shapeName: string, member: string): unknown => {
    if (shapeName === 'KeyIdType') return keyArn;
    if (member in overrides) return overrides[member];
    const s = shapes[shapeName]!;
    switch (s.type) {
      case 'structure': {
        const out: Record<string, unknown> = {};
        for (const [name, m] of Object.entries(s.members as Record<string, { shape: string }>)) {
          if ((s.required ?? []).includes(name) || m.shape === 'KeyIdType') out[name] = fill(m.shape, name);
        }
        return out;
      }
      case 'list': return [fill(s.member!.shape, member)];
      case 'map': return { [String(fill(s.key!.shape, member))]: fill(s.value!.shape, member) };
      case 'string': return s.enum ? s.enum[0] : 'xacct';
      case 'blob': return Buffer.from('probe').toString('base64');
      case 'integer': case 'long': return s.min ?? 1;
      case 'boolean': return false;
      default: throw new Error(`no probe value for ${shapeName} (${s.type})`);
    }
  };
  return fill(KMS_MODEL.operations[op]!.input, '') as Record<string, unknown>;
}

/**
 * AWS KMS's "Cross-account use" as a rule of the operation table (every KMS_OPERATIONS entry): another account
 * whose principals a key policy grants kms:* may use the key through the cross-account operations only; every
 * other operation refuses the key ARN exactly as it refuses a key that does not exist, and changes nothing.
 */
describe('KMS cross-account use: only the operations AWS documents as cross-account act on another account’s key', () => {
  let server: TestServer;
  let a: KMSClient;
  let b: KMSClient;
  let credsB: { accessKeyId: string; secretAccessKey: string };
  const keys: Record<string, string> = {};
  let policyBefore: string;
  let bOwnKey: string;

  before(async () => {
    server = await startServer();
    a = server.kms();
    const out = await run(process.execPath, ['bin/strongroom.js', 'account', 'create', '--data-dir', server.dataDir, '--account-id', ACCT_B]);
    credsB = { accessKeyId: /AWS_ACCESS_KEY_ID=(\S+)/.exec(out.stdout)![1]!, secretAccessKey: /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(out.stdout)![1]! };
    b = server.kms({ credentials: credsB });
    const Policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Owner', Effect: 'Allow', Principal: { AWS: ROOT_A }, Action: 'kms:*', Resource: '*' },
        { Sid: 'OtherAccount', Effect: 'Allow', Principal: { AWS: ROOT_B }, Action: 'kms:*', Resource: '*' },
      ],
    });
    const create = async (spec: Partial<sdk.CreateKeyRequest>) => (await a.send(new CreateKeyCommand({ Policy, Description: 'shared', ...spec }))).KeyMetadata!.Arn!;
    keys.symmetric = await create({});
    keys.sign = await create({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    keys.hmac = await create({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    keys.agreement = await create({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' });
    keys.kem = await create({ KeySpec: 'ML_KEM_768', KeyUsage: 'ENCAPSULATE_DECAPSULATE' });
    policyBefore = (await a.send(new GetKeyPolicyCommand({ KeyId: keys.symmetric }))).Policy!;
    bOwnKey = (await b.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    await b.send(new CreateAliasCommand({ AliasName: 'alias/xacct-b', TargetKeyId: bOwnKey }));
  });
  after(async () => {
    a.destroy();
    b.destroy();
    await server.destroy();
  });

  /** One call as account B's root, over raw JSON (any operation the server serves, whatever the SDK knows). */
  async function callAsB(op: string, input: Record<string, unknown>) {
    const res = await sendRaw(server.url, await signedJsonRequest(server.url, `TrentService.${op}`, JSON.stringify(input), { credentials: credsB }));
    const body = res.text ? (JSON.parse(res.text) as Record<string, string>) : {};
    return { status: res.status, type: body.__type, message: body.message ?? body.Message };
  }

  it('the operations that declare crossAccount are exactly those AWS documents as cross-account', () => {
    const declared = [...KMS_OPERATIONS].filter(([, op]) => op.crossAccount === true).map(([name]) => name).sort();
    assert.deepEqual(declared, AWS_CROSS_ACCOUNT);
  });

  it('every same-account-only operation given the other account’s key ARN is AccessDeniedException, as for a key that does not exist', async () => {
    const sameAccount = [...KMS_OPERATIONS.values()].filter((op) => !op.crossAccount && keyMembers(op.name).length > 0);
    // The rule is over the whole table; these are the ones the finding named.
    for (const named of ['DisableKey', 'ScheduleKeyDeletion', 'PutKeyPolicy', 'UpdateAlias', 'TagResource', 'EnableKeyRotation', 'GetKeyLastUsage', 'ImportKeyMaterial', 'DeleteImportedKeyMaterial']) {
      assert.ok(sameAccount.some((op) => op.name === named), `${named} is probed`);
    }
    const missing = `arn:aws:kms:us-east-1:${TEST_ACCOUNT}:key/${randomUUID()}`;
    const failures: string[] = [];
    for (const op of sameAccount) {
      const denial = (arn: string) =>
        `User: ${ROOT_B} is not authorized to perform: ${op.action} on resource: ${arn} because no resource-based policy allows the ${op.action} action`;
      const existing = await callAsB(op.name, probeInput(op.name, keys.symmetric!));
      const absent = await callAsB(op.name, probeInput(op.name, missing));
      const got = `${op.name}: existing key → ${existing.status} ${existing.type} ${existing.message}; missing key → ${absent.status} ${absent.type} ${absent.message}`;
      if (existing.status !== 400 || existing.type !== 'AccessDeniedException' || existing.message !== denial(keys.symmetric!)) failures.push(got);
      else if (absent.status !== 400 || absent.type !== 'AccessDeniedException' || absent.message !== denial(missing)) failures.push(got);
    }
    assert.deepEqual(failures, []);
  });

  it('after every same-account-only operation was tried, the key is as it was: enabled, no deletion, policy, tags, rotation, description and aliases unchanged', async () => {
    // Runs after the table above (node:test runs a describe's tests in order); tries the worst ones again first.
    for (const op of ['DisableKey', 'ScheduleKeyDeletion', 'PutKeyPolicy', 'TagResource', 'EnableKeyRotation', 'UpdateKeyDescription']) {
      assert.equal((await callAsB(op, probeInput(op, keys.symmetric!))).type, 'AccessDeniedException', op);
    }
    const meta = (await a.send(new DescribeKeyCommand({ KeyId: keys.symmetric }))).KeyMetadata!;
    assert.equal(meta.KeyState, 'Enabled');
    assert.equal(meta.Enabled, true);
    assert.equal(meta.DeletionDate, undefined);
    assert.equal(meta.Description, 'shared');
    assert.equal(meta.Origin, 'AWS_KMS');
    assert.equal((await a.send(new GetKeyPolicyCommand({ KeyId: keys.symmetric }))).Policy, policyBefore);
    assert.deepEqual((await a.send(new ListResourceTagsCommand({ KeyId: keys.symmetric }))).Tags ?? [], []);
    assert.equal((await a.send(new GetKeyRotationStatusCommand({ KeyId: keys.symmetric }))).KeyRotationEnabled, false);
    assert.deepEqual((await a.send(new ListAliasesCommand({ KeyId: keys.symmetric }))).Aliases ?? [], []);
    const bAliases = (await b.send(new ListAliasesCommand({}))).Aliases!.filter((al) => al.AliasName!.startsWith('alias/xacct'));
    assert.deepEqual(bAliases.map((al) => [al.AliasName, al.TargetKeyId]), [['alias/xacct-b', bOwnKey.split('/')[1]]]);
  });

  it('a key id or alias name names a key of the caller’s own account only', async () => {
    const byId = await callAsB('DescribeKey', { KeyId: keys.symmetric!.split('/')[1] });
    assert.equal(byId.type, 'NotFoundException');
    const disable = await callAsB('DisableKey', { KeyId: keys.symmetric!.split('/')[1] });
    assert.equal(disable.type, 'NotFoundException');
  });

  it('every cross-account operation works on the other account’s key through its key policy', async () => {
    const kem = keys.kem!;
    const peer = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
    const cases: Record<string, () => Promise<unknown>> = {
      Encrypt: () => b.send(new EncryptCommand({ KeyId: keys.symmetric, Plaintext: Buffer.from('x') })),
      Decrypt: async () => {
        const { CiphertextBlob } = await b.send(new EncryptCommand({ KeyId: keys.symmetric, Plaintext: Buffer.from('round trip') }));
        const out = await b.send(new DecryptCommand({ KeyId: keys.symmetric, CiphertextBlob }));
        assert.equal(Buffer.from(out.Plaintext!).toString(), 'round trip');
      },
      ReEncrypt: async () => {
        const { CiphertextBlob } = await b.send(new EncryptCommand({ KeyId: keys.symmetric, Plaintext: Buffer.from('x') }));
        return b.send(new ReEncryptCommand({ CiphertextBlob, SourceKeyId: keys.symmetric, DestinationKeyId: keys.symmetric }));
      },
      GenerateDataKey: () => b.send(new GenerateDataKeyCommand({ KeyId: keys.symmetric, KeySpec: 'AES_256' })),
      GenerateDataKeyWithoutPlaintext: () => b.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keys.symmetric, KeySpec: 'AES_256' })),
      GenerateDataKeyPair: () => b.send(new GenerateDataKeyPairCommand({ KeyId: keys.symmetric, KeyPairSpec: 'ECC_NIST_P256' })),
      GenerateDataKeyPairWithoutPlaintext: () => b.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: keys.symmetric, KeyPairSpec: 'ECC_NIST_P256' })),
      DescribeKey: () => b.send(new DescribeKeyCommand({ KeyId: keys.symmetric })),
      GetKeyRotationStatus: () => b.send(new GetKeyRotationStatusCommand({ KeyId: keys.symmetric })),
      CreateGrant: () => b.send(new CreateGrantCommand({ KeyId: keys.symmetric, GranteePrincipal: ROOT_B, Operations: ['Decrypt'] })),
      ListGrants: async () => assert.ok((await b.send(new ListGrantsCommand({ KeyId: keys.symmetric }))).Grants!.length >= 1),
      RetireGrant: async () => {
        const { GrantId } = await b.send(new CreateGrantCommand({ KeyId: keys.symmetric, GranteePrincipal: ROOT_B, RetiringPrincipal: ROOT_B, Operations: ['Decrypt'] }));
        return b.send(new RetireGrantCommand({ KeyId: keys.symmetric, GrantId }));
      },
      RevokeGrant: async () => {
        const { GrantId } = await b.send(new CreateGrantCommand({ KeyId: keys.symmetric, GranteePrincipal: ROOT_B, Operations: ['Decrypt'] }));
        return b.send(new RevokeGrantCommand({ KeyId: keys.symmetric, GrantId }));
      },
      Sign: () => b.send(new SignCommand({ KeyId: keys.sign, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' })),
      Verify: async () => {
        const { Signature } = await b.send(new SignCommand({ KeyId: keys.sign, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' }));
        const out = await b.send(new VerifyCommand({ KeyId: keys.sign, Message: Buffer.from('m'), Signature, SigningAlgorithm: 'ECDSA_SHA_256' }));
        assert.equal(out.SignatureValid, true);
      },
      GetPublicKey: () => b.send(new GetPublicKeyCommand({ KeyId: keys.sign })),
      GenerateMac: () => b.send(new GenerateMacCommand({ KeyId: keys.hmac, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' })),
      VerifyMac: async () => {
        const { Mac } = await b.send(new GenerateMacCommand({ KeyId: keys.hmac, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' }));
        const out = await b.send(new VerifyMacCommand({ KeyId: keys.hmac, Message: Buffer.from('m'), Mac, MacAlgorithm: 'HMAC_SHA_256' }));
        assert.equal(out.MacValid, true);
      },
      DeriveSharedSecret: () => b.send(new DeriveSharedSecretCommand({ KeyId: keys.agreement, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer })),
      Encapsulate: () => b.send(new EncapsulateCommand({ KeyId: kem, EncapsulationAlgorithm: 'ML_KEM' })),
      Decapsulate: async () => {
        const enc = await b.send(new EncapsulateCommand({ KeyId: kem, EncapsulationAlgorithm: 'ML_KEM' }));
        const dec = await b.send(new DecapsulateCommand({ KeyId: kem, SharedSecretCiphertextBlob: enc.SharedSecretCiphertextBlob, EncapsulationAlgorithm: 'ML_KEM' }));
        assert.deepEqual(Buffer.from(dec.SharedSecret!), Buffer.from(enc.SharedSecret!));
      },
    };
    const crossAccount = [...KMS_OPERATIONS].filter(([, op]) => op.crossAccount).map(([name]) => name);
    const failures: string[] = [];
    for (const name of crossAccount) {
      const c = cases[name];
      if (!c) {
        failures.push(`${name}: no case (a new cross-account operation needs one here)`);
        continue;
      }
      try {
        await c();
      } catch (err) {
        failures.push(`${name}: ${(err as Error).name} ${(err as Error).message}`);
      }
    }
    assert.deepEqual(failures, []);
  });
});
