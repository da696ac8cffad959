import { systemClock } from '../core/clock.js';
import { createAccount } from '../core/identity/accounts.js';
import { CredentialStore } from '../core/identity/credentials.js';
import { DeploymentFlags, openDeployment } from './deployment.js';

export interface AccountCreateFlags extends DeploymentFlags {
  accountId?: string;
}

/**
 * `strongroom account create`: a new account in an existing data dir (a running server may have it open),
 * its root credentials printed once — nowhere else are they written in the clear.
 */
export async function accountCreateCommand(flags: AccountCreateFlags): Promise<number> {
  if (flags.accountId !== undefined && !/^\d{12}$/.test(flags.accountId)) {
    process.stderr.write('strongroom: --account-id must be 12 digits\n');
    return 1;
  }
  const opened = await openDeployment(flags);
  if (typeof opened === 'string') {
    process.stderr.write(`strongroom: ${opened}\n`);
    return 1;
  }
  const { stores } = opened;
  try {
    const keyring = await opened.keyring();
    const region = (await stores.metadata.getSetting('home_region')) ?? 'us-east-1';
    const account = await createAccount(stores.metadata, new CredentialStore(stores.metadata, keyring, undefined, stores.cache), systemClock, flags.accountId);
    process.stdout.write(
      `Account ${account.accountId} created. Root credentials (shown once, stored nowhere in the clear):\n` +
        `  export AWS_ACCESS_KEY_ID=${account.accessKeyId}\n` +
        `  export AWS_SECRET_ACCESS_KEY=${account.secretAccessKey}\n` +
        `  export AWS_DEFAULT_REGION=${region}\n`,
    );
    return 0;
  } finally {
    await opened.close();
  }
}
