import { Command } from 'commander';

/**
 * Commander's Command with the option groups several of strongroom's commands share, so that each group's flags
 * and wording are written once. Subcommands are of this class too (Commander's createCommand hook).
 */
export class StrongroomCommand extends Command {
  override createCommand(name?: string): StrongroomCommand {
    return new StrongroomCommand(name);
  }

  /** Where an offline command finds the deployment: a data dir or a PostgreSQL database, and the root-of-trust key. */
  deploymentOptions(): this {
    return this.option('--data-dir <dir>', 'the data dir (STRONGROOM_DATA_DIR)')
      .option('--database-url <url>', 'the PostgreSQL database instead (STRONGROOM_DATABASE_URL)')
      .option('--root-of-trust-file <file>', 'the root-of-trust key (STRONGROOM_ROOT_OF_TRUST_FILE; default <data-dir>/root-of-trust.key)');
  }

  /** Which kind of root of trust unwraps the deployment's keyring, for the offline commands that unwrap secrets. */
  rootOfTrustOption(): this {
    return this.option('--root-of-trust <kind>', 'file or pkcs11 (STRONGROOM_ROOT_OF_TRUST, with STRONGROOM_PKCS11_*; default file)');
  }

  /** How an operator command reaches the running server on this machine: the data dir of its operator-token file, and its URL. */
  operatorEndpointOptions(): this {
    return this.option('--data-dir <dir>', 'the server\'s data dir, for its operator-token file (STRONGROOM_DATA_DIR)')
      .option('--endpoint-url <url>', 'the server on this machine (STRONGROOM_OPERATOR_URL; default http://127.0.0.1:STRONGROOM_PORT or 4566)');
  }
}
