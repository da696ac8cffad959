import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { CreateRoleCommand, CreateUserCommand, PutRolePolicyCommand, CreateAccessKeyCommand } from '@aws-sdk/client-iam';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Clients, allow, policyDocument, trustPolicy } from '../../helpers/query-clients.js';
import { FORM_CONTENT_TYPE, presignedQueryPath, signedQueryRequest } from '../../helpers/query-request.js';
import { RawResponse, sendRaw } from '../../helpers/raw-request.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TestServer, startServer } from '../../helpers/server.js';

const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const IAM_VERSION = { Version: '2010-05-08' };
const STS_VERSION = { Version: '2011-06-15' };

function xmlError(res: RawResponse): { type: string; code: string; message: string; requestId: string; namespace: string } {
  const m = /^<ErrorResponse xmlns="([^"]+)"><Error><Type>(\w+)<\/Type><Code>(\w+)<\/Code><Message>(.*)<\/Message><\/Error><RequestId>([^<]+)<\/RequestId><\/ErrorResponse>$/s.exec(res.text);
  assert.ok(m, `not an AWS Query error: ${res.status} ${res.text.slice(0, 300)}`);
  return { namespace: m[1]!, type: m[2]!, code: m[3]!, message: m[4]!, requestId: m[5]! };
}

/** The AWS Query protocol on the wire: the XML it answers, the statuses, the forms of requests it accepts. */
describe('AWS Query protocol (IAM, STS) on the wire', () => {
  let server: TestServer;
  let clients: Clients;

  before(async () => {
    server = await startServer();
    clients = new Clients(server);
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
  });

  it('answers <XResponse xmlns><XResult>…</XResult><ResponseMetadata><RequestId/></ResponseMetadata></XResponse> as text/xml', async () => {
    const res = await sendRaw(server.url, await signedQueryRequest(server.url, { Action: 'CreateUser', ...IAM_VERSION, UserName: 'wire', Path: '/a&b/' }));
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/xml');
    const requestId = String(res.headers['x-amzn-requestid']);
    assert.match(
      res.text,
      new RegExp(
        `^<CreateUserResponse xmlns="${IAM_NS}"><CreateUserResult><User><Path>/a&amp;b/</Path><UserName>wire</UserName><UserId>AIDA[A-Z2-7]{17}</UserId>` +
          `<Arn>arn:aws:iam::${TEST_ACCOUNT}:user/a&amp;b/wire</Arn><CreateDate>\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ</CreateDate></User></CreateUserResult>` +
          `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></CreateUserResponse>$`,
      ),
    );
    const none = await sendRaw(server.url, await signedQueryRequest(server.url, { Action: 'ListGroups', ...IAM_VERSION }));
    assert.match(none.text, /<ListGroupsResult><Groups><\/Groups><IsTruncated>false<\/IsTruncated><\/ListGroupsResult>/);
  });

  it('answers operations without output with ResponseMetadata alone', async () => {
    const res = await sendRaw(server.url, await signedQueryRequest(server.url, { Action: 'DeleteUser', ...IAM_VERSION, UserName: 'wire' }));
    assert.equal(res.status, 200);
    assert.match(res.text, new RegExp(`^<DeleteUserResponse xmlns="${IAM_NS}"><ResponseMetadata><RequestId>[^<]+</RequestId></ResponseMetadata></DeleteUserResponse>$`));
  });

  it('errors are <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse> with the code\'s status', async () => {
    const res = await sendRaw(server.url, await signedQueryRequest(server.url, { Action: 'GetUser', ...IAM_VERSION, UserName: 'ghost' }));
    assert.equal(res.status, 404);
    const err = xmlError(res);
    assert.deepEqual({ ...err, requestId: undefined }, { namespace: IAM_NS, type: 'Sender', code: 'NoSuchEntity', message: 'The user with name ghost cannot be found.', requestId: undefined });
    assert.equal(err.requestId, res.headers['x-amzn-requestid']);
  });

  it('STS answers in its own namespace, to GET requests signed in the header too', async () => {
    const res = await sendRaw(server.url, await signedQueryRequest(server.url, { Action: 'GetCallerIdentity', ...STS_VERSION }, { service: 'sts', method: 'GET' }));
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, new RegExp(`^<GetCallerIdentityResponse xmlns="${STS_NS}"><GetCallerIdentityResult><UserId>${TEST_ACCOUNT}</UserId><Account>${TEST_ACCOUNT}</Account><Arn>arn:aws:iam::${TEST_ACCOUNT}:root</Arn></GetCallerIdentityResult>`));
  });

  it('accepts presigned GET URLs (query-string authentication), session credentials included', async () => {
    const res = await sendRaw(server.url, await presignedQueryPath(server.url, { Action: 'GetCallerIdentity', ...STS_VERSION }, { service: 'sts' }));
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /<Arn>arn:aws:iam::111122223333:root<\/Arn>/);

    const iam = clients.iam();
    await iam.send(new CreateUserCommand({ UserName: 'presigner' }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'presigner' }));
    await iam.send(new CreateRoleCommand({ RoleName: 'Presigned', AssumeRolePolicyDocument: trustPolicy(`arn:aws:iam::${TEST_ACCOUNT}:user/presigner`) }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'Presigned', PolicyName: 'p', PolicyDocument: policyDocument(allow('iam:ListUsers')) }));
    const { Credentials } = await clients
      .sts({ accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! })
      .send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${TEST_ACCOUNT}:role/Presigned`, RoleSessionName: 'url' }));
    const credentials = { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! };
    const presigned = await presignedQueryPath(server.url, { Action: 'GetCallerIdentity', ...STS_VERSION }, { service: 'sts', credentials });
    assert.match(presigned.path!, /X-Amz-Security-Token=/);
    const session = await sendRaw(server.url, presigned);
    assert.equal(session.status, 200, session.text);
    assert.match(session.text, /<Arn>arn:aws:sts::111122223333:assumed-role\/Presigned\/url<\/Arn>/);
    const tampered = await sendRaw(server.url, { ...presigned, path: presigned.path!.replace(/X-Amz-Security-Token=([^&])/, (_m, c: string) => `X-Amz-Security-Token=${c === 'A' ? 'B' : 'A'}`) });
    assert.equal(xmlError(tampered).code, 'InvalidClientTokenId');
  });

  it('an unsigned request is MissingAuthenticationToken (403); an unknown action or version InvalidAction (400)', async () => {
    const unsigned = await sendRaw(server.url, { headers: { 'content-type': FORM_CONTENT_TYPE }, body: 'Action=ListUsers&Version=2010-05-08' });
    assert.equal(unsigned.status, 403);
    assert.equal(xmlError(unsigned).code, 'MissingAuthenticationToken');
    const unsignedSts = await sendRaw(server.url, { method: 'GET', path: '/?Action=GetCallerIdentity&Version=2011-06-15', headers: {} });
    assert.equal(xmlError(unsignedSts).namespace, STS_NS);

    const unknown = await sendRaw(server.url, await signedQueryRequest(server.url, { Action: 'CreateLoginProfile', ...IAM_VERSION, UserName: 'x' }));
    assert.equal(unknown.status, 400);
    assert.deepEqual([xmlError(unknown).code, xmlError(unknown).message], ['InvalidAction', 'Could not find operation CreateLoginProfile for version 2010-05-08']);
    const version = await sendRaw(server.url, await signedQueryRequest(server.url, { Action: 'ListUsers', Version: '2099-01-01' }));
    assert.equal(xmlError(version).code, 'InvalidAction');
  });

  it('a wrong secret is SignatureDoesNotMatch (403), an unknown key InvalidClientTokenId (403)', async () => {
    const wrong = await sendRaw(server.url, await signedQueryRequest(server.url, { Action: 'ListUsers', ...IAM_VERSION }, { credentials: { ...TEST_CREDENTIALS, secretAccessKey: 'wrong' } }));
    assert.equal(wrong.status, 403);
    assert.equal(xmlError(wrong).code, 'SignatureDoesNotMatch');
    const unknown = await sendRaw(server.url, await signedQueryRequest(server.url, { Action: 'ListUsers', ...IAM_VERSION }, { credentials: { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x' } }));
    assert.equal(unknown.status, 403);
    assert.equal(xmlError(unknown).code, 'InvalidClientTokenId');
  });

  it('a body that was tampered with after signing is refused', async () => {
    const req = await signedQueryRequest(server.url, { Action: 'CreateUser', ...IAM_VERSION, UserName: 'aaaa' });
    const res = await sendRaw(server.url, { ...req, body: String(req.body).replace('aaaa', 'bbbb') });
    assert.equal(res.status, 403);
    assert.equal(xmlError(res).code, 'SignatureDoesNotMatch');
  });

  it('does not claim requests signed for another service (S3 is REST-XML), nor GETs without Action', async () => {
    // S3 (REST-XML) answers them, with its own XML errors, not IAM's ErrorResponse.
    const s3 = await sendRaw(server.url, await signedQueryRequest(server.url, { Action: 'ListUsers', ...IAM_VERSION }, { service: 's3' }));
    assert.equal(s3.status, 501);
    assert.match(String(s3.headers['content-type']), /application\/xml/);
    assert.match(s3.body.toString(), /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>NotImplemented<\/Code>/);
    const bucket = await sendRaw(server.url, { method: 'GET', path: '/my-bucket?list-type=2', headers: {} });
    assert.equal(bucket.status, 403);
    assert.match(bucket.body.toString(), /<Error><Code>AccessDenied<\/Code><Message>Access Denied<\/Message>/);
  });

  it('hostile parameters are answered with AWS errors, never an internal failure', async () => {
    const cases: Record<string, string>[] = [
      { Action: 'CreateUser', UserName: 'x\u0000y' },
      { Action: 'CreateUser', UserName: 'tags', 'Tags.member.1': 'not-a-structure' },
      { Action: 'CreateUser', UserName: 'tags', 'Tags.member.1.Key': 'k' },
      { Action: 'CreateUser', UserName: 'tags', 'Tags.member.1000000.Key': 'k', 'Tags.member.1.Value': 'v' },
      { Action: 'ListUsers', MaxItems: '99999999999999999999' },
      { Action: 'ListUsers', MaxItems: '-1' },
      { Action: 'ListUsers', Marker: '\u00ff'.repeat(400) },
      { Action: 'PutUserPolicy', UserName: 'nobody', PolicyName: 'p', PolicyDocument: 'x'.repeat(140_000) },
      { Action: 'PutUserPolicy', UserName: 'nobody', PolicyName: 'p', PolicyDocument: '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}\u4e2d' },
      { Action: 'CreateRole', RoleName: 'r', AssumeRolePolicyDocument: '{'.repeat(10_000) },
      { Action: 'GetUser', UserName: '' },
      { Action: 'UpdateAccessKey', AccessKeyId: 'AKIA', Status: 'Expired' },
    ];
    for (const params of cases) {
      const res = await sendRaw(server.url, await signedQueryRequest(server.url, { ...IAM_VERSION, ...params }));
      assert.ok(res.status >= 400 && res.status < 500, `${JSON.stringify(params).slice(0, 120)} → ${res.status} ${res.text.slice(0, 200)}`);
      const err = xmlError(res);
      assert.notEqual(err.code, 'ServiceFailure');
    }
  });

  it('a signed body over 1 MiB is RequestEntityTooLarge (413); unsigned, it is refused before its body is read', async () => {
    const res = await sendRaw(server.url, await signedQueryRequest(server.url, { Action: 'ListUsers', Version: '2010-05-08', Pad: 'x'.repeat(1024 * 1024) }));
    assert.equal(res.status, 413);
    assert.equal(xmlError(res).code, 'RequestEntityTooLarge');
    const body = `Action=ListUsers&Version=2010-05-08&Pad=${'x'.repeat(1024 * 1024)}`;
    const unsigned = await sendRaw(server.url, { headers: { 'content-type': FORM_CONTENT_TYPE, 'content-length': String(body.length) }, body });
    assert.equal(unsigned.status, 403);
    assert.equal(xmlError(unsigned).code, 'MissingAuthenticationToken');
  });
});

describe('AWS Query protocol: IAM is global', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ regions: 'eu-west-1' });
  });
  after(async () => {
    await server.destroy();
  });

  it('requests signed for us-east-1 are served even where the deployment serves other regions; unserved regions are refused', async () => {
    const global = await sendRaw(server.url, await signedQueryRequest(server.url, { Action: 'ListUsers', ...IAM_VERSION }, { region: 'us-east-1' }));
    assert.equal(global.status, 200, global.text);
    const served = await sendRaw(server.url, await signedQueryRequest(server.url, { Action: 'GetCallerIdentity', ...STS_VERSION }, { service: 'sts', region: 'eu-west-1' }));
    assert.equal(served.status, 200, served.text);
    const other = await sendRaw(server.url, await signedQueryRequest(server.url, { Action: 'ListUsers', ...IAM_VERSION }, { region: 'ap-south-1' }));
    assert.equal(other.status, 403);
    assert.equal(xmlError(other).code, 'SignatureDoesNotMatch');
  });
});
