import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateGrantCommand, CreateKeyCommand, CreateKeyCommandInput, DecryptCommand, DeriveSharedSecretCommand, EncryptCommand, GenerateDataKeyPairCommand,
  GenerateDataKeyPairWithoutPlaintextCommand, GenerateMacCommand, GetPublicKeyCommand, KMSClient, PutKeyPolicyCommand, SignCommand, VerifyCommand,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { constants, createHash, createPublicKey, generateKeyPairSync, publicEncrypt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Clients, Credentials, policyDocument } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TestServer, rejection, startServer } from '../../helpers/server.js';

/**
 * The condition keys of the asymmetric, HMAC and key agreement operations (issue 11) in IAM policies, key
 * policies and grants: kms:SigningAlgorithm and kms:MessageType (Sign, Verify), kms:MacAlgorithm (GenerateMac,
 * VerifyMac), kms:KeyAgreementAlgorithm (DeriveSharedSecret), kms:DataKeyPairSpec (GenerateDataKeyPair*),
 * kms:EncryptionAlgorithm (Encrypt/Decrypt with RSA keys), kms:KeySpec / kms:KeyUsage / kms:KeyOrigin (of the key,
 * and of the key CreateKey would make); and the grant operations each kind of key allows.
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
 * https://docs.aws.amazon.com/kms/latest/developerguide/grants.html#terms-grant-operations
 */
describe('KMS condition keys and grant operations of asymmetric, HMAC and key agreement keys', () => {
  let server: TestServer;
  let clients: Clients;
  let kms: KMSClient;
  const keys: Record<'ecc' | 'rsaSign' | 'hmac' | 'agreement' | 'rsaEncrypt' | 'symmetric', string> = {} as never;
  const peer = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  const message = Buffer.from('the message');
  let eccSignature: Uint8Array;
  let mac: Uint8Array;
  let rsaCiphertext: Buffer;
  let users = 0;

  before(async () => {
    server = await startServer();
    clients = new Clients(server);
    kms = clients.kms();
    const create = async (p: CreateKeyCommandInput) => (await kms.send(new CreateKeyCommand(p))).KeyMetadata!.Arn!;
    keys.ecc = await create({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    keys.rsaSign = await create({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    keys.hmac = await create({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    keys.agreement = await create({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' });
    keys.rsaEncrypt = await create({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    keys.symmetric = await create({});
    eccSignature = (await kms.send(new SignCommand({ KeyId: keys.ecc, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }))).Signature!;
    mac = (await kms.send(new GenerateMacCommand({ KeyId: keys.hmac, Message: message, MacAlgorithm: 'HMAC_SHA_256' }))).Mac!;
    const publicKey = (await kms.send(new GetPublicKeyCommand({ KeyId: keys.rsaEncrypt }))).PublicKey!;
    rsaCiphertext = publicEncrypt({ key: createPublicKey({ key: Buffer.from(publicKey), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, message);
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
  });

  /** A new IAM user whose only policy is `statements`, and a KMS client with its access key. */
  const userWith = async (...statements: Record<string, unknown>[]): Promise<{ arn: string; kms: KMSClient }> => {
    const iam = clients.iam();
    const name = `conditions-${++users}`;
    const arn = (await iam.send(new CreateUserCommand({ UserName: name }))).User!.Arn!;
    if (statements.length > 0) await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: policyDocument(...statements) }));
    const ak = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
    const credentials: Credentials = { accessKeyId: ak.AccessKeyId!, secretAccessKey: ak.SecretAccessKey! };
    return { arn, kms: clients.kms(credentials) };
  };
  const outcome = async (call: Promise<unknown>) => {
    try {
      await call;
      return 'allowed';
    } catch (err) {
      return (err as Error).name;
    }
  };

  /** One row: an action, a call of it, and a condition key with the value the call has and one it has not. */
  interface Row {
    readonly action: string;
    readonly key: string;
    readonly matching: string;
    readonly other: string;
    readonly call: (client: KMSClient) => Promise<unknown>;
  }
  const rows = (): Row[] => [
    { action: 'kms:Sign', key: 'kms:SigningAlgorithm', matching: 'ECDSA_SHA_256', other: 'ECDSA_SHA_384',
      call: (c) => c.send(new SignCommand({ KeyId: keys.ecc, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' })) },
    { action: 'kms:Sign', key: 'kms:MessageType', matching: 'DIGEST', other: 'RAW',
      call: (c) => c.send(new SignCommand({ KeyId: keys.rsaSign, Message: createHash('sha256').update(message).digest(), MessageType: 'DIGEST', SigningAlgorithm: 'RSASSA_PSS_SHA_256' })) },
    { action: 'kms:Sign', key: 'kms:KeySpec', matching: 'ECC_NIST_P256', other: 'RSA_2048',
      call: (c) => c.send(new SignCommand({ KeyId: keys.ecc, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' })) },
    { action: 'kms:Verify', key: 'kms:SigningAlgorithm', matching: 'ECDSA_SHA_256', other: 'ECDSA_SHA_512',
      call: (c) => c.send(new VerifyCommand({ KeyId: keys.ecc, Message: message, Signature: eccSignature, SigningAlgorithm: 'ECDSA_SHA_256' })) },
    { action: 'kms:Verify', key: 'kms:MessageType', matching: 'RAW', other: 'DIGEST',
      call: (c) => c.send(new VerifyCommand({ KeyId: keys.ecc, Message: message, Signature: eccSignature, SigningAlgorithm: 'ECDSA_SHA_256' })) },
    { action: 'kms:GetPublicKey', key: 'kms:KeyUsage', matching: 'KEY_AGREEMENT', other: 'SIGN_VERIFY',
      call: (c) => c.send(new GetPublicKeyCommand({ KeyId: keys.agreement })) },
    { action: 'kms:GenerateMac', key: 'kms:MacAlgorithm', matching: 'HMAC_SHA_256', other: 'HMAC_SHA_512',
      call: (c) => c.send(new GenerateMacCommand({ KeyId: keys.hmac, Message: message, MacAlgorithm: 'HMAC_SHA_256' })) },
    { action: 'kms:VerifyMac', key: 'kms:MacAlgorithm', matching: 'HMAC_SHA_256', other: 'HMAC_SHA_384',
      call: (c) => c.send(new VerifyMacCommand({ KeyId: keys.hmac, Message: message, Mac: mac, MacAlgorithm: 'HMAC_SHA_256' })) },
    { action: 'kms:GenerateMac', key: 'kms:KeySpec', matching: 'HMAC_256', other: 'HMAC_512',
      call: (c) => c.send(new GenerateMacCommand({ KeyId: keys.hmac, Message: message, MacAlgorithm: 'HMAC_SHA_256' })) },
    { action: 'kms:DeriveSharedSecret', key: 'kms:KeyAgreementAlgorithm', matching: 'ECDH', other: 'ECDH_OTHER',
      call: (c) => c.send(new DeriveSharedSecretCommand({ KeyId: keys.agreement, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer })) },
    { action: 'kms:GenerateDataKeyPair', key: 'kms:DataKeyPairSpec', matching: 'ECC_NIST_P256', other: 'RSA_2048',
      call: (c) => c.send(new GenerateDataKeyPairCommand({ KeyId: keys.symmetric, KeyPairSpec: 'ECC_NIST_P256' })) },
    { action: 'kms:GenerateDataKeyPairWithoutPlaintext', key: 'kms:EncryptionAlgorithm', matching: 'SYMMETRIC_DEFAULT', other: 'RSAES_OAEP_SHA_256',
      call: (c) => c.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: keys.symmetric, KeyPairSpec: 'ECC_NIST_P256' })) },
    { action: 'kms:Encrypt', key: 'kms:EncryptionAlgorithm', matching: 'RSAES_OAEP_SHA_256', other: 'RSAES_OAEP_SHA_1',
      call: (c) => c.send(new EncryptCommand({ KeyId: keys.rsaEncrypt, Plaintext: message, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })) },
    { action: 'kms:Decrypt', key: 'kms:EncryptionAlgorithm', matching: 'RSAES_OAEP_SHA_256', other: 'SYMMETRIC_DEFAULT',
      call: (c) => c.send(new DecryptCommand({ KeyId: keys.rsaEncrypt, CiphertextBlob: rsaCiphertext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })) },
    { action: 'kms:CreateKey', key: 'kms:KeySpec', matching: 'ECC_NIST_P384', other: 'ECC_NIST_P256',
      call: (c) => c.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P384', KeyUsage: 'SIGN_VERIFY' })) },
    { action: 'kms:CreateKey', key: 'kms:KeyUsage', matching: 'GENERATE_VERIFY_MAC', other: 'ENCRYPT_DECRYPT',
      call: (c) => c.send(new CreateKeyCommand({ KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC' })) },
    { action: 'kms:CreateKey', key: 'kms:KeyOrigin', matching: 'AWS_KMS', other: 'EXTERNAL',
      call: (c) => c.send(new CreateKeyCommand({ KeySpec: 'RSA_3072', KeyUsage: 'ENCRYPT_DECRYPT' })) },
  ];

  it('an IAM policy allowing the action when the condition key has the request\'s value allows it; naming another value denies it', async () => {
    const seen: string[] = [];
    for (const r of rows()) {
      const allowed = await userWith({ Effect: 'Allow', Action: r.action, Resource: '*', Condition: { StringEquals: { [r.key]: r.matching } } });
      const denied = await userWith({ Effect: 'Allow', Action: r.action, Resource: '*', Condition: { StringEquals: { [r.key]: r.other } } });
      seen.push(`${r.action} ${r.key}: ${await outcome(r.call(allowed.kms))} / ${await outcome(r.call(denied.kms))}`);
    }
    assert.deepEqual(seen, rows().map((r) => `${r.action} ${r.key}: allowed / AccessDeniedException`));
  });

  it('a key policy Deny on kms:MessageType DIGEST and kms:SigningAlgorithm stops those Sign calls, even for the account', async () => {
    const key = (await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.Arn!;
    await kms.send(new PutKeyPolicyCommand({
      KeyId: key,
      PolicyName: 'default',
      Policy: policyDocument(
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
        { Effect: 'Deny', Principal: '*', Action: 'kms:Sign', Resource: '*', Condition: { StringEquals: { 'kms:MessageType': 'DIGEST' } } },
        { Effect: 'Deny', Principal: '*', Action: 'kms:Sign', Resource: '*', Condition: { StringLike: { 'kms:SigningAlgorithm': 'RSASSA_PKCS1_*' } } },
      ),
    }));
    const sign = (MessageType: 'RAW' | 'DIGEST', SigningAlgorithm: 'RSASSA_PSS_SHA_256' | 'RSASSA_PKCS1_V1_5_SHA_256') =>
      outcome(kms.send(new SignCommand({ KeyId: key, Message: MessageType === 'RAW' ? message : createHash('sha256').update(message).digest(), MessageType, SigningAlgorithm })));
    assert.equal(await sign('RAW', 'RSASSA_PSS_SHA_256'), 'allowed');
    assert.equal(await sign('DIGEST', 'RSASSA_PSS_SHA_256'), 'AccessDeniedException');
    assert.equal(await sign('RAW', 'RSASSA_PKCS1_V1_5_SHA_256'), 'AccessDeniedException');
  });

  it('grants allow each key kind\'s own operations (Sign/Verify/GetPublicKey, GenerateMac/VerifyMac, DeriveSharedSecret, GenerateDataKeyPair*) to a user with no policy', async () => {
    const grantee = await userWith();
    const grant = async (KeyId: string, Operations: string[]) => (await kms.send(new CreateGrantCommand({ KeyId, GranteePrincipal: grantee.arn, Operations: Operations as never }))).GrantToken!;
    const calls: [string, string[], (tokens: string[]) => Promise<unknown>][] = [
      [keys.ecc, ['Sign', 'Verify', 'GetPublicKey'], (t) => grantee.kms.send(new SignCommand({ KeyId: keys.ecc, Message: message, SigningAlgorithm: 'ECDSA_SHA_256', GrantTokens: t }))],
      [keys.hmac, ['GenerateMac', 'VerifyMac'], (t) => grantee.kms.send(new VerifyMacCommand({ KeyId: keys.hmac, Message: message, Mac: mac, MacAlgorithm: 'HMAC_SHA_256', GrantTokens: t }))],
      [keys.agreement, ['DeriveSharedSecret', 'GetPublicKey'], (t) => grantee.kms.send(new DeriveSharedSecretCommand({ KeyId: keys.agreement, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer, GrantTokens: t }))],
      [keys.symmetric, ['GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext'], (t) => grantee.kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: keys.symmetric, KeyPairSpec: 'RSA_2048', GrantTokens: t }))],
    ];
    for (const [key, ops, call] of calls) {
      assert.equal(await outcome(call([])), 'AccessDeniedException', `${ops[0]} before the grant`);
      const token = await grant(key, ops);
      assert.equal(await outcome(call([token])), 'allowed', `${ops[0]} with the grant`);
    }
    // Once made, a grant needs no token; a grant on one signing key opens no other key.
    assert.equal(await outcome(grantee.kms.send(new GenerateMacCommand({ KeyId: keys.hmac, Message: message, MacAlgorithm: 'HMAC_SHA_256' }))), 'allowed');
    assert.equal(await outcome(grantee.kms.send(new SignCommand({ KeyId: keys.rsaSign, Message: message, SigningAlgorithm: 'RSASSA_PSS_SHA_256' }))), 'AccessDeniedException');
  });

  it('CreateGrant refuses operations the key cannot do with ValidationException naming them and the key spec and usage', async () => {
    const grantee = `arn:aws:iam::${TEST_ACCOUNT}:root`;
    const cases: [string, string[], string][] = [
      [keys.hmac, ['Sign', 'GenerateMac'], 'Grant operations [Sign] are not supported for a KMS key with KeySpec HMAC_256 and KeyUsage GENERATE_VERIFY_MAC.'],
      [keys.ecc, ['GenerateMac', 'Decrypt'], 'Grant operations [GenerateMac, Decrypt] are not supported for a KMS key with KeySpec ECC_NIST_P256 and KeyUsage SIGN_VERIFY.'],
      [keys.agreement, ['Sign'], 'Grant operations [Sign] are not supported for a KMS key with KeySpec ECC_NIST_P256 and KeyUsage KEY_AGREEMENT.'],
      [keys.rsaEncrypt, ['GenerateDataKeyPair'], 'Grant operations [GenerateDataKeyPair] are not supported for a KMS key with KeySpec RSA_2048 and KeyUsage ENCRYPT_DECRYPT.'],
      [keys.symmetric, ['DeriveSharedSecret'], 'Grant operations [DeriveSharedSecret] are not supported for a symmetric encryption KMS key (KeySpec SYMMETRIC_DEFAULT, KeyUsage ENCRYPT_DECRYPT).'],
    ];
    for (const [KeyId, Operations, message] of cases) {
      const err = await rejection(kms.send(new CreateGrantCommand({ KeyId, GranteePrincipal: grantee, Operations: Operations as never })));
      assert.equal(err.name, 'ValidationException');
      assert.equal(err.$metadata?.httpStatusCode, 400);
      assert.equal(err.message, message);
    }
  });
});
