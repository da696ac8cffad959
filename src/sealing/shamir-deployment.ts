import { RootOfTrustLocation, rootSettings } from '../data-dir.js';
import { DataDirError } from '../data-dir.js';
import { SHAMIR_KIND, SHAMIR_SETTING, ShamirParameters, parseShamirParameters } from '../core/crypto/root-of-trust/shamir.js';
import { Stores } from '../stores.js';

/**
 * Whether this deployment starts sealed, and its split: told (STRONGROOM_ROOT_OF_TRUST=shamir, or the SQLite data
 * dir's marker file) or found (the keyring is wrapped by the Shamir root: a PostgreSQL node need not be told).
 * Told but not initialised with shares: refused, naming `operator init`.
 */
export async function sealedStartParameters(config: RootOfTrustLocation, stores: Stores): Promise<ShamirParameters | undefined> {
  const told = rootSettings(config).kind === SHAMIR_KIND;
  const stored = await stores.keyring.get();
  if (!told && stored?.rootKind !== SHAMIR_KIND) return undefined;
  const params = await stores.metadata.getSetting(SHAMIR_SETTING);
  if (!stored || stored.rootKind !== SHAMIR_KIND || params === undefined) {
    throw new DataDirError(
      `the root of trust is shamir, but this deployment (${stores.description}) was not initialised with key shares: ` +
        `make it with \`strongroom operator init --key-shares N --key-threshold T\` (on an empty data dir or database)`,
    );
  }
  return parseShamirParameters(params);
}
