import { resolve } from 'node:path';
import { systemClock } from '../core/clock.js';
import { FileRootOfTrust } from '../core/crypto/root-of-trust/file.js';
import { createAccount } from '../core/identity/accounts.js';
import { CredentialStore } from '../core/identity/credentials.js';
import { notADataDir } from '../data-dir.js';
import { openStores } from '../stores.js';

export interface AccountCreateFlags {
  dataDir?: string;
  accountId?: string;
}

/**
 * `strongroom account create`: a new account in an existing data dir (a running server may have it open),
 * its root credentials printed once — nowhere else are they written in the clear.
 */
export async function accountCreateCommand(flags: AccountCreateFlags): Promise<number> {
  const dataDir = resolve(flags.dataDir ?? process.env.STRONGROOM_DATA_DIR ?? 'data');
  const notDataDir = notADataDir(dataDir);
  if (notDataDir !== undefined) {
    process.stderr.write(`strongroom: ${notDataDir}\n`);
    return 1;
  }
  if (flags.accountId !== undefined && !/^\d{12}$/.test(flags.accountId)) {
    process.stderr.write('strongroom: --account-id must be 12 digits\n');
    return 1;
  }
  const root = FileRootOfTrust.openOrCreate(dataDir);
  const stores = openStores(dataDir);
  try {
    const region = (await stores.metadata.getSetting('home_region')) ?? 'us-east-1';
    const account = await createAccount(stores.metadata, new CredentialStore(stores.metadata, root), systemClock, flags.accountId);
    process.stdout.write(
      `Account ${account.accountId} created. Root credentials (shown once, stored nowhere in the clear):\n` +
        `  export AWS_ACCESS_KEY_ID=${account.accessKeyId}\n` +
        `  export AWS_SECRET_ACCESS_KEY=${account.secretAccessKey}\n` +
        `  export AWS_DEFAULT_REGION=${region}\n`,
    );
    return 0;
  } finally {
    await stores.close();
    await root.close();
  }
}
