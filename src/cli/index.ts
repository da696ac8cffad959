import { readFileSync } from 'node:fs';
import { ConfigError, Flags, loadConfig } from '../config/config.js';
import { main } from '../main.js';
import { StrongroomCommand } from './command.js';
import { AccountCreateFlags, accountCreateCommand } from './account.js';
import { AuditExportPublicKeyFlags, AuditProofFlags, AuditVerifyFlags, auditExportPublicKeyCommand, auditProofCommand, auditVerifyCommand } from './audit.js';
import { ExplainFlags, explainCommand } from './explain.js';
import { S3EncryptFlags, s3EncryptCommand } from './s3-encrypt.js';
import { DeploymentFlags } from './deployment.js';
import { RotateRootFlags, rotateKeyringCommand, rotateRootCommand } from './operator.js';
import { InitFlags, OperatorEndpointFlags, initCommand, sealCommand, sealStatusCommand, unsealCommand } from './operator-seal.js';

// A reader that went away (`strongroom explain … | head`) ends the command quietly, with the status of a
// process killed by SIGPIPE (128 + 13) as Unix tools have: Node ignores SIGPIPE, so without this the failed
// write surfaced as an unhandled EPIPE error with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(141);
    throw err;
  });
}

/** package.json's version (dist/src/cli/index.js → the package root). */
const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const program = new StrongroomCommand()
  .name('strongroom')
  .version(VERSION, '-V, --version', 'print the version')
  .description('Self-hosted AWS KMS, IAM, CloudTrail and S3 with server-side encryption: the real AWS wire protocols, keys wrapped by a root of trust.');

program
  .command('serve')
  .description('start the server (one port serves every AWS protocol)')
  .option('--host <host>', 'address to listen on (STRONGROOM_HOST)', undefined)
  .option('--port <port>', 'port to listen on, 0 for any (STRONGROOM_PORT)', undefined)
  .option('--data-dir <dir>', 'where keys and metadata live (STRONGROOM_DATA_DIR)', undefined)
  .option('--database-url <url>', 'keep all state in PostgreSQL, postgres://USER:PASS@HOST:PORT/DB, shared by every node (STRONGROOM_DATABASE_URL; default: SQLite in the data dir)')
  .option('--root-of-trust-file <file>', 'the root-of-trust key; every node of one database needs a copy (STRONGROOM_ROOT_OF_TRUST_FILE; default <data-dir>/root-of-trust.key)')
  .option('--root-of-trust <kind>', 'what wraps the keyring: file, or pkcs11 (an HSM key; STRONGROOM_PKCS11_MODULE, _TOKEN_LABEL, _PIN or _PIN_FILE, _KEY_LABEL) (STRONGROOM_ROOT_OF_TRUST; default file)')
  .option('--workers <n>', 'processes serving the port (STRONGROOM_WORKERS; default: the machine\'s cores)')
  .option('--tls-cert <file>', 'PEM certificate: serve HTTPS')
  .option('--tls-key <file>', 'PEM private key of --tls-cert')
  .option('--tls-self-signed', 'serve HTTPS with a self-signed certificate for localhost, made on first start in <data-dir>/tls (runs openssl; STRONGROOM_TLS_SELF_SIGNED)')
  .option('--nbd-listen <addr>', 'export attached volumes over NBD: off, PORT (on 127.0.0.1), HOST:PORT or [IPv6]:PORT (STRONGROOM_NBD_LISTEN; default off; 10809 is NBD\'s port)')
  .option('--nbd-tls-cert <file>', 'PEM certificate of the NBD server: NBD over TLS only (required off loopback; STRONGROOM_NBD_TLS_CERT)')
  .option('--nbd-tls-key <file>', 'PEM private key of --nbd-tls-cert (STRONGROOM_NBD_TLS_KEY)')
  .option('--nbd-tls-ca <file>', 'PEM CA certificate(s): NBD clients must present a certificate one of them signed (STRONGROOM_NBD_TLS_CA)')
  .action(async (flags: Flags) => {
    await main(loadConfig(flags));
  });

program
  .command('explain')
  .description('print the decision KMS makes for a principal, an action and a key, and the statements that made it')
  .requiredOption('--principal <arn>', 'who: arn:aws:iam::ACCOUNT:root or …:user/NAME')
  .requiredOption('--action <action>', 'e.g. kms:Decrypt')
  .requiredOption('--key <key>', 'key id, key ARN, alias name or alias ARN')
  .option('--context <k=v...>', 'encryption context pairs')
  .option('--region <region>', 'region of the key (default: the home region)')
  .option('--source-ip <ip>', 'the caller\'s address (aws:SourceIp)')
  .option('--secure-transport <true|false>', 'whether the call comes over HTTPS (aws:SecureTransport)')
  .option('--via-service <endpoint|none>', 'the service calling KMS for the principal, e.g. s3.us-east-1.amazonaws.com, or none (kms:ViaService, aws:ViaAWSService)')
  .option('--user-agent <text>', 'the caller\'s User-Agent (aws:UserAgent)')
  .deploymentOptions()
  .rootOfTrustOption()
  .option('--json', 'print JSON')
  .action(async (flags: ExplainFlags) => {
    process.exitCode = await explainCommand(flags);
  });

program
  .command('account')
  .description('manage the accounts of a data dir')
  .command('create')
  .description('create an account with root credentials of its own (printed once); a running server picks it up')
  .deploymentOptions()
  .rootOfTrustOption()
  .option('--account-id <id>', 'the new account id, 12 digits (default: random)')
  .action(async (flags: AccountCreateFlags) => {
    process.exitCode = await accountCreateCommand(flags);
  });

const operator = program.command('operator').description('root of trust and keyring operations on a deployment (offline: servers may keep running)');
operator
  .command('rotate-root')
  .description('wrap the keyring with another root of trust (file -> pkcs11, pkcs11 -> another HSM key); re-wraps only the keyring; audited')
  .requiredOption('--to <kind>', 'the new root: pkcs11 (STRONGROOM_PKCS11_* or the --to-pkcs11-* flags) or file')
  .option('--to-root-of-trust-file <file>', 'with --to file: the new key file, which must not exist (default <data-dir>/root-of-trust.key)')
  .option('--to-pkcs11-module <so>', 'with --to pkcs11: the module (default STRONGROOM_PKCS11_MODULE)')
  .option('--to-pkcs11-token-label <label>', 'with --to pkcs11: the token (default STRONGROOM_PKCS11_TOKEN_LABEL)')
  .option('--to-pkcs11-key-label <label>', 'with --to pkcs11: the key, generated if the token has none (default STRONGROOM_PKCS11_KEY_LABEL, strongroom-root)')
  .option('--to-pkcs11-pin-file <file>', 'with --to pkcs11: the token\'s PIN (default STRONGROOM_PKCS11_PIN or _PIN_FILE)')
  .option('--allow-weaker-root', 'allow moving from an HSM to a key file')
  .deploymentOptions()
  .rootOfTrustOption()
  .action(async (flags: RotateRootFlags) => {
    process.exitCode = await rotateRootCommand(flags);
  });
operator
  .command('rotate-keyring')
  .description('add a keyring key for new writes; older blobs keep theirs and still decrypt; audited')
  .deploymentOptions()
  .rootOfTrustOption()
  .action(async (flags: DeploymentFlags) => {
    process.exitCode = await rotateKeyringCommand(flags);
  });

operator
  .command('init')
  .description('make a new deployment whose root key is split into key shares (printed once, stored nowhere); its server starts sealed')
  .requiredOption('--key-shares <n>', 'how many key shares to print (2-255)')
  .requiredOption('--key-threshold <t>', 'how many of them unseal the server (at least 2)')
  .option('--data-dir <dir>', 'the new data dir (STRONGROOM_DATA_DIR)')
  .option('--database-url <url>', 'the new PostgreSQL deployment instead (STRONGROOM_DATABASE_URL)')
  .action(async (flags: InitFlags) => {
    process.exitCode = await initCommand(flags);
  });
operator
  .command('unseal [share]')
  .description('give one key share to the running server on this machine (the argument, or the first line of stdin); prints the progress')
  .operatorEndpointOptions()
  .action(async (share: string | undefined, flags: OperatorEndpointFlags) => {
    process.exitCode = await unsealCommand(share, flags);
  });
operator
  .command('seal')
  .description('seal the running server on this machine: it stops serving and wipes every key from memory')
  .operatorEndpointOptions()
  .action(async (flags: OperatorEndpointFlags) => {
    process.exitCode = await sealCommand(flags);
  });
operator
  .command('seal-status')
  .description('whether the running server on this machine is sealed, and the unseal progress')
  .operatorEndpointOptions()
  .action(async (flags: OperatorEndpointFlags) => {
    process.exitCode = await sealStatusCommand(flags);
  });

const audit = program.command('audit').description('the audit log of a data dir or a PostgreSQL database');
audit
  .command('verify')
  .description('recompute the hash chain and the RFC 6962 Merkle tree offline, check every signed tree head; exits 1 naming what is wrong')
  .deploymentOptions()
  .option('--public-key <pem-file>', 'verify the signed tree heads with this public key (pinned earlier) instead of the one stored with the log')
  .action(async (flags: AuditVerifyFlags) => {
    process.exitCode = await auditVerifyCommand(flags);
  });
audit
  .command('proof')
  .description('print the RFC 6962 inclusion proof of a record (JSON), by default against the newest signed tree head')
  .requiredOption('--seq <n>', 'the record\'s sequence number')
  .option('--tree-size <s>', 'the tree size to prove against (default: the newest signed head\'s)')
  .deploymentOptions()
  .action(async (flags: AuditProofFlags) => {
    process.exitCode = await auditProofCommand(flags);
  });
audit
  .command('export-public-key')
  .description('print the public key that signs the audit tree heads (PEM), to pin it for `audit verify --public-key`')
  .deploymentOptions()
  .action(async (flags: AuditExportPublicKeyFlags) => {
    process.exitCode = await auditExportPublicKeyCommand(flags);
  });

program
  .command('s3')
  .description('S3 object store tools')
  .command('encrypt')
  .description('re-encrypt the existing objects of a bucket in place (default encryption only applies to new objects); resumable')
  .requiredOption('--bucket <bucket>', 'the bucket')
  .option('--prefix <prefix>', 'only keys with this prefix')
  .requiredOption('--sse <algorithm>', 'AES256, aws:kms or aws:kms:dsse')
  .option('--kms-key-id <key>', 'KMS key id, ARN or alias (default with aws:kms: the AWS managed key aws/s3)')
  .option('--bucket-key-enabled', 'use an S3 Bucket Key for the new encryption')
  .option('--endpoint-url <url>', 'the server (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL; default http://127.0.0.1:4566)')
  .option('--region <region>', 'region (AWS_REGION, AWS_DEFAULT_REGION; default us-east-1)')
  .option('--state-file <file>', 'where progress is kept (default .strongroom-s3-encrypt-<bucket>.json)')
  .option('--no-progress', 'no progress bar')
  .action(async (flags: S3EncryptFlags) => {
    process.exitCode = await s3EncryptCommand(flags);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`strongroom: ${err instanceof ConfigError || (err instanceof Error && err.name !== 'Error') ? err.message : err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
