import { AwsError } from '../errors/aws-error.js';
import { IamErrors } from '../errors/iam.js';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { newAccessKeyId, newSecretAccessKey } from '../identity/credentials.js';
import { rootArn } from '../identity/principal.js';
import { IamAccessKeyRecord, IamUserRecord } from '../../store/metadata/iam-types.js';
import { IamDeps } from './deps.js';
import { QUOTAS, storeWrite } from './failures.js';

/**
 * Long-term access keys of IAM users, and of the account root (user null): at most two each; the secret
 * is returned once, by CreateAccessKey, and stored only wrapped by the root of trust. A key made Inactive
 * or deleted stops authenticating at once (the credential cache forgets it).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html
 */
export class AccessKeys {
  constructor(private readonly d: IamDeps) {}

  async create(accountId: string, user: IamUserRecord | null): Promise<{ key: IamAccessKeyRecord; secretAccessKey: string }> {
    const accessKeyId = newAccessKeyId('AKIA');
    const secretAccessKey = newSecretAccessKey();
    const secretWrapped = await this.d.credentials.seal(accessKeyId, SecretBytes.adopt(Buffer.from(secretAccessKey, 'utf8')));
    const key: IamAccessKeyRecord = {
      accessKeyId,
      accountId,
      principalArn: user ? user.arn : rootArn(accountId),
      principalType: user ? 'IAMUser' : 'Root',
      principalId: user ? user.userId : accountId,
      secretWrapped,
      status: 'Active',
      createdAt: this.d.clock.now(),
      userName: user ? user.userName : null,
    };
    await storeWrite({ user: user?.userName ?? '' }, () => this.d.store.createAccessKey(key, QUOTAS.AccessKeysPerUser!));
    return { key, secretAccessKey };
  }

  list(accountId: string, userName: string | null): Promise<IamAccessKeyRecord[]> {
    return this.d.store.listAccessKeys(accountId, userName);
  }

  async setStatus(accountId: string, userName: string | null, accessKeyId: string, status: 'Active' | 'Inactive'): Promise<void> {
    const changed = await this.d.store.setAccessKeyStatus(accountId, userName, accessKeyId, status);
    await this.d.credentials.invalidate(accessKeyId);
    if (!changed) throw missing(accessKeyId);
  }

  async delete(accountId: string, userName: string | null, accessKeyId: string): Promise<void> {
    const deleted = await this.d.store.deleteAccessKey(accountId, userName, accessKeyId);
    await this.d.credentials.invalidate(accessKeyId);
    if (!deleted) throw missing(accessKeyId);
  }
}

function missing(accessKeyId: string): AwsError {
  return new AwsError(IamErrors.NoSuchEntity, `The Access Key with id ${accessKeyId} cannot be found.`);
}
