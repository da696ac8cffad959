import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateGrantCommand, CreateKeyCommand, CreateKeyCommandInput, DescribeKeyCommand, EnableKeyRotationCommand, EncryptCommand, GenerateDataKeyCommand,
  GetKeyRotationStatusCommand, KMSClient, ListKeyRotationsCommand, ReEncryptCommand, RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Clients, policyDocument } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TestServer, rejection, startServer } from '../../helpers/server.js';

/**
 * Key specs and key usages at CreateKey and DescribeKey (issue 11): each spec's allowed usages and the
 * algorithms they bring, AWS's validation errors, and the operations a key of another kind refuses.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html
 */
describe('KMS key specs over HTTP with @aws-sdk/client-kms', () => {
  let server: TestServer;
  let clients: Clients;
  let kms: KMSClient;
  let iam: IAMClient;

  before(async () => {
    server = await startServer();
    clients = new Clients(server);
    kms = clients.kms();
    iam = clients.iam();
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
  });

  const create = async (params: CreateKeyCommandInput) => (await kms.send(new CreateKeyCommand(params))).KeyMetadata!;

  it('CreateKey and DescribeKey show each key spec with its usage and the algorithms AWS lists for it', async () => {
    const cases = [
      { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY', cmk: 'RSA_2048', algorithms: { SigningAlgorithms: ['RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512'] } },
      { KeySpec: 'RSA_3072', KeyUsage: 'ENCRYPT_DECRYPT', cmk: 'RSA_3072', algorithms: { EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] } },
      { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', cmk: 'ECC_NIST_P256', algorithms: { SigningAlgorithms: ['ECDSA_SHA_256'] } },
      { KeySpec: 'ECC_NIST_P384', KeyUsage: 'KEY_AGREEMENT', cmk: 'ECC_NIST_P384', algorithms: { KeyAgreementAlgorithms: ['ECDH'] } },
      { KeySpec: 'ECC_NIST_P521', KeyUsage: 'SIGN_VERIFY', cmk: 'ECC_NIST_P521', algorithms: { SigningAlgorithms: ['ECDSA_SHA_512'] } },
      { KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', cmk: 'ECC_SECG_P256K1', algorithms: { SigningAlgorithms: ['ECDSA_SHA_256'] } },
      // ECC_NIST_EDWARDS25519 came after CustomerMasterKeySpec was deprecated: not in its enum.
      { KeySpec: 'ECC_NIST_EDWARDS25519', KeyUsage: 'SIGN_VERIFY', cmk: undefined, algorithms: { SigningAlgorithms: ['ED25519_SHA_512', 'ED25519_PH_SHA_512'] } },
      { KeySpec: 'ML_DSA_65', KeyUsage: 'SIGN_VERIFY', cmk: undefined, algorithms: { SigningAlgorithms: ['ML_DSA_SHAKE_256'] } },
      { KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC', cmk: 'HMAC_384', algorithms: { MacAlgorithms: ['HMAC_SHA_384'] } },
    ] as const;
    for (const c of cases) {
      const md = await create({ KeySpec: c.KeySpec, KeyUsage: c.KeyUsage });
      const described = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
      assert.deepEqual(described, md);
      assert.equal(md.KeySpec, c.KeySpec);
      assert.equal(md.CustomerMasterKeySpec, c.cmk);
      assert.equal(md.KeyUsage, c.KeyUsage);
      assert.equal(md.Origin, 'AWS_KMS');
      assert.equal(md.MultiRegion, false);
      for (const member of ['EncryptionAlgorithms', 'SigningAlgorithms', 'MacAlgorithms', 'KeyAgreementAlgorithms'] as const) {
        assert.deepEqual(md[member], (c.algorithms as Record<string, readonly string[]>)[member], `${c.KeySpec} ${member}`);
      }
    }
  });

  it('the deprecated CustomerMasterKeySpec is accepted alone; with KeySpec too it is a ValidationException', async () => {
    const md = await create({ CustomerMasterKeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    assert.equal(md.KeySpec, 'ECC_NIST_P256');
    const err = await rejection(kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', CustomerMasterKeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' })));
    assert.equal(err.name, 'ValidationException');
    assert.equal(err.$metadata?.httpStatusCode, 400);
  });

  it('a key usage the key spec does not allow, or none for a spec that needs one, is a ValidationException', async () => {
    const cases = [
      { KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'SIGN_VERIFY' },
      { KeySpec: 'ECC_NIST_P256', KeyUsage: 'ENCRYPT_DECRYPT' },
      { KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'KEY_AGREEMENT' },
      { KeySpec: 'RSA_2048', KeyUsage: 'GENERATE_VERIFY_MAC' },
      { KeySpec: 'HMAC_256', KeyUsage: 'ENCRYPT_DECRYPT' },
      { KeySpec: 'ECC_NIST_EDWARDS25519' },
      { KeySpec: 'HMAC_256' },
    ] as const;
    for (const c of cases) {
      const err = await rejection(kms.send(new CreateKeyCommand(c)));
      assert.equal(err.name, 'ValidationException', JSON.stringify(c));
      assert.equal(err.$metadata?.httpStatusCode, 400);
      assert.match(err.message, new RegExp(c.KeySpec));
    }
  });

  it('symmetric operations on an asymmetric or HMAC key are InvalidKeyUsageException, as AWS words them', async () => {
    const signing = await create({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const rsa = await create({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    const hmac = await create({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    let err = await rejection(kms.send(new EncryptCommand({ KeyId: signing.KeyId, Plaintext: Buffer.from('x') })));
    assert.equal(err.name, 'InvalidKeyUsageException');
    assert.equal(err.message, `${signing.Arn} key usage is SIGN_VERIFY which is not valid for Encrypt.`);
    err = await rejection(kms.send(new GenerateDataKeyCommand({ KeyId: hmac.KeyId, NumberOfBytes: 32 })));
    assert.equal(err.name, 'InvalidKeyUsageException');
    assert.equal(err.message, `${hmac.Arn} key usage is GENERATE_VERIFY_MAC which is not valid for GenerateDataKey.`);
    err = await rejection(kms.send(new GenerateDataKeyCommand({ KeyId: rsa.KeyId, NumberOfBytes: 32 })));
    assert.equal(err.name, 'InvalidKeyUsageException');
    assert.equal(err.message, 'Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.');
    const symmetric = await create({});
    const blob = (await kms.send(new EncryptCommand({ KeyId: symmetric.KeyId, Plaintext: Buffer.from('x') }))).CiphertextBlob!;
    err = await rejection(kms.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: signing.KeyId })));
    assert.equal(err.name, 'InvalidKeyUsageException');
    assert.match(err.message, /not valid for ReEncrypt/);
  });

  it('rotation of an asymmetric or HMAC key is UnsupportedOperationException (EnableKeyRotation, RotateKeyOnDemand, GetKeyRotationStatus, ListKeyRotations)', async () => {
    for (const params of [{ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }, { KeySpec: 'HMAC_512', KeyUsage: 'GENERATE_VERIFY_MAC' }] as const) {
      const key = await create(params);
      for (const command of [
        new EnableKeyRotationCommand({ KeyId: key.KeyId }),
        new RotateKeyOnDemandCommand({ KeyId: key.KeyId }),
        new GetKeyRotationStatusCommand({ KeyId: key.KeyId }),
        new ListKeyRotationsCommand({ KeyId: key.KeyId }),
      ]) {
        const err = await rejection(kms.send(command as Parameters<KMSClient['send']>[0]));
        assert.equal(err.name, 'UnsupportedOperationException', `${params.KeySpec} ${command.constructor.name}`);
        assert.match(err.message, /rotation is supported only for symmetric encryption KMS keys/);
      }
    }
  });

  it('a grant on a signing key may allow Sign, Verify and GetPublicKey, not Encrypt; on a symmetric key the reverse', async () => {
    const signing = await create({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const grantee = `arn:aws:iam::${TEST_ACCOUNT}:root`;
    await kms.send(new CreateGrantCommand({ KeyId: signing.KeyId, GranteePrincipal: grantee, Operations: ['Sign', 'Verify', 'GetPublicKey', 'DescribeKey'] }));
    let err = await rejection(kms.send(new CreateGrantCommand({ KeyId: signing.KeyId, GranteePrincipal: grantee, Operations: ['Sign', 'Encrypt'] })));
    assert.equal(err.name, 'ValidationException');
    assert.match(err.message, /\[Encrypt\]/);
    const symmetric = await create({});
    err = await rejection(kms.send(new CreateGrantCommand({ KeyId: symmetric.KeyId, GranteePrincipal: grantee, Operations: ['Sign'] })));
    assert.equal(err.name, 'ValidationException');
    assert.match(err.message, /\[Sign\]/);
  });

  it('kms:KeySpec and kms:KeyUsage in an IAM policy decide which keys a user may create and use', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'spec-user' }));
    await iam.send(new PutUserPolicyCommand({
      UserName: 'spec-user',
      PolicyName: 'p',
      PolicyDocument: policyDocument(
        { Effect: 'Allow', Action: 'kms:CreateKey', Resource: '*', Condition: { StringEquals: { 'kms:KeySpec': 'ECC_NIST_P256', 'kms:KeyUsage': 'SIGN_VERIFY' } } },
        { Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*', Condition: { StringEquals: { 'kms:KeySpec': 'ECC_NIST_P256', 'kms:KeyOrigin': 'AWS_KMS' } } },
      ),
    }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'spec-user' }));
    const user = clients.kms({ accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! });
    const made = (await user.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!;
    assert.equal(made.KeySpec, 'ECC_NIST_P256');
    let err = await rejection(user.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' })));
    assert.equal(err.name, 'AccessDeniedException');
    err = await rejection(user.send(new CreateKeyCommand({})));
    assert.equal(err.name, 'AccessDeniedException');
    await user.send(new DescribeKeyCommand({ KeyId: made.Arn }));
    const rsa = await create({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    err = await rejection(user.send(new DescribeKeyCommand({ KeyId: rsa.Arn })));
    assert.equal(err.name, 'AccessDeniedException');
  });
});
