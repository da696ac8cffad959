// IAM and STS driven by boto3 (Python) against a real in-process Strongroom server: one Python process runs
// the flows and prints a JSON report of what boto3 saw; the node tests assert on that report.
//
// A python3 without boto3 skips the suite on a developer machine; with CI set it is a failure.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, startServer } from '../../helpers/server.js';

const PYTHON = 'python3';

function unavailable(): string | undefined {
  const res = spawnSync(PYTHON, ['-c', 'import boto3'], { env: awsClientEnv(), encoding: 'utf8', timeout: 30_000 });
  if (res.error) return `${PYTHON} cannot be run (${(res.error as NodeJS.ErrnoException).code ?? res.error.message})`;
  if (res.status !== 0) return `${PYTHON} cannot import boto3: ${res.stderr.trim().split('\n').pop() ?? ''}`;
  return undefined;
}

const SCRIPT = String.raw`
import json, sys
import boto3
from botocore.config import Config

url, access_key, secret_key, region, account = sys.argv[1:6]
cfg = Config(retries={'max_attempts': 1})
def client(service, key=access_key, secret=secret_key, token=None):
    return boto3.client(service, endpoint_url=url, region_name=region, aws_access_key_id=key,
                        aws_secret_access_key=secret, aws_session_token=token, config=cfg)
iam = client('iam')
report = {}

def error_of(c, call, **kwargs):
    try:
        call(**kwargs)
    except c.exceptions.ClientError as e:
        code = e.response['Error']['Code']
        return {'code': code, 'message': e.response['Error']['Message'], 'status': e.response['ResponseMetadata']['HTTPStatusCode'],
                'class': type(e).__name__}
    return None

for i in range(5):
    iam.create_user(UserName='py%d' % i, Path='/python/')
pages = [[u['UserName'] for u in page['Users']] for page in iam.get_paginator('list_users').paginate(PathPrefix='/python/', PaginationConfig={'PageSize': 2})]
report['pages'] = pages
report['noSuchEntity'] = error_of(iam, iam.get_user, UserName='ghost')
report['exists'] = error_of(iam, iam.create_user, UserName='PY0')
report['malformed'] = error_of(iam, iam.create_policy, PolicyName='Bad', PolicyDocument='{"Statement": 5}')

doc = {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': ['kms:ListKeys', 'sts:AssumeRole'], 'Resource': '*'}]}
policy = iam.create_policy(PolicyName='PyPolicy', PolicyDocument=json.dumps(doc))['Policy']
iam.create_group(GroupName='pythons')
iam.attach_group_policy(GroupName='pythons', PolicyArn=policy['Arn'])
iam.add_user_to_group(GroupName='pythons', UserName='py0')
key = iam.create_access_key(UserName='py0')['AccessKey']
report['version'] = iam.get_policy_version(PolicyArn=policy['Arn'], VersionId='v1')['PolicyVersion']['Document']
report['deleteConflict'] = error_of(iam, iam.delete_group, GroupName='pythons')

trust = {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Principal': {'AWS': account}, 'Action': 'sts:AssumeRole'}]}
role = iam.create_role(RoleName='PyRole', AssumeRolePolicyDocument=json.dumps(trust))['Role']
report['roleTrust'] = role['AssumeRolePolicyDocument']
iam.put_role_policy(RoleName='PyRole', PolicyName='kms', PolicyDocument=json.dumps(doc))

user_sts = client('sts', key['AccessKeyId'], key['SecretAccessKey'])
report['userIdentity'] = user_sts.get_caller_identity()['Arn']
report['userKeys'] = len(client('kms', key['AccessKeyId'], key['SecretAccessKey']).list_keys()['Keys'])
assumed = user_sts.assume_role(RoleArn=role['Arn'], RoleSessionName='boto3', DurationSeconds=900)
creds = assumed['Credentials']
report['assumed'] = {'arn': assumed['AssumedRoleUser']['Arn'], 'keyId': creds['AccessKeyId'][:4],
                     'expiration': creds['Expiration'].timestamp()}
session_sts = client('sts', creds['AccessKeyId'], creds['SecretAccessKey'], creds['SessionToken'])
report['sessionIdentity'] = session_sts.get_caller_identity()
report['sessionKeys'] = len(client('kms', creds['AccessKeyId'], creds['SecretAccessKey'], creds['SessionToken']).list_keys()['Keys'])
report['tampered'] = error_of(session_sts, client('sts', creds['AccessKeyId'], creds['SecretAccessKey'], creds['SessionToken'][:-4] + 'AAAA').get_caller_identity)
report['sessionToken'] = client('sts', key['AccessKeyId'], key['SecretAccessKey']).get_session_token(DurationSeconds=900)['Credentials']['AccessKeyId'][:4]
print(json.dumps(report, default=str))
`;

describe('IAM and STS with boto3', () => {
  const problem = unavailable();
  if (problem !== undefined) {
    if (!process.env.CI) it('runs the IAM/STS flows', { skip: `${problem}; skipped because CI is not set` }, () => {});
    else it('is installed (CI is set, so a missing boto3 is a failure)', () => assert.fail(problem));
    return;
  }

  let server: TestServer;
  let report: Record<string, any>;

  before(async () => {
    server = await startServer();
    report = await new Promise((resolve, reject) => {
      execFile(
        PYTHON,
        ['-c', SCRIPT, server.url, TEST_CREDENTIALS.accessKeyId, TEST_CREDENTIALS.secretAccessKey, TEST_REGION, TEST_ACCOUNT],
        { env: awsClientEnv(), timeout: 60_000, encoding: 'utf8' },
        (err, stdout, stderr) => (err ? reject(new Error(`boto3 script failed: ${stderr}`)) : resolve(JSON.parse(stdout) as Record<string, any>)),
      );
    });
  });
  after(async () => {
    await server.destroy();
  });

  it("the list_users paginator walks IsTruncated/Marker pages", () => {
    assert.deepEqual(report.pages, [['py0', 'py1'], ['py2', 'py3'], ['py4']]);
  });

  it('errors arrive as the modeled exceptions with their codes and statuses', () => {
    assert.deepEqual(report.noSuchEntity, { code: 'NoSuchEntity', message: 'The user with name ghost cannot be found.', status: 404, class: 'NoSuchEntityException' });
    assert.equal(report.exists.class, 'EntityAlreadyExistsException');
    assert.equal(report.exists.status, 409);
    assert.equal(report.malformed.class, 'MalformedPolicyDocumentException');
    assert.equal(report.deleteConflict.class, 'DeleteConflictException');
  });

  it('botocore decodes the URL-encoded policy documents into objects, as it does for AWS', () => {
    assert.deepEqual(report.version.Statement[0].Action, ['kms:ListKeys', 'sts:AssumeRole']);
    assert.equal(report.roleTrust.Statement[0].Principal.AWS, TEST_ACCOUNT);
  });

  it("a user's key works at once, with its group's managed policy", () => {
    assert.equal(report.userIdentity, `arn:aws:iam::${TEST_ACCOUNT}:user/python/py0`);
    assert.equal(typeof report.userKeys, 'number');
  });

  it('assume_role through an account-trusting role and an identity policy; the session works; a tampered token does not', () => {
    assert.equal(report.assumed.arn, `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/PyRole/boto3`);
    assert.equal(report.assumed.keyId, 'ASIA');
    assert.ok(Math.abs(report.assumed.expiration * 1000 - (Date.now() + 900_000)) < 60_000, 'DurationSeconds=900');
    assert.equal(report.sessionIdentity.Arn, report.assumed.arn);
    assert.equal(report.sessionIdentity.Account, TEST_ACCOUNT);
    assert.equal(typeof report.sessionKeys, 'number');
    assert.equal(report.tampered.code, 'InvalidClientTokenId');
    assert.equal(report.sessionToken, 'ASIA');
  });
});
