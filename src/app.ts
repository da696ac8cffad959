import { mkdirSync } from 'node:fs';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Logger, pino } from 'pino';
import { Deployment, bootstrap } from './bootstrap.js';
import { Config, DEFAULT_BODY_LIMITS, DEFAULT_TRAIL_CONFIG, readTls } from './config/config.js';
import { AuditLog, AuditSink } from './core/audit/audit-log.js';
import { DigestSigningKeys } from './core/audit/digest-keys.js';
import { auditedKeyLifecycle } from './core/audit/service-events.js';
import { TrailDelivery } from './core/audit/trail-delivery.js';
import { TreeHeadSigner } from './core/audit/tree-head-key.js';
import { Clock, systemClock } from './core/clock.js';
import { CacheSettings } from './core/cache/cache.js';
import { LeasedJob } from './core/leases/leased-job.js';
import { localHolder, localIdentity } from './core/leases/host-identity.js';
import { Keyring } from './core/crypto/root-of-trust/keyring.js';
import { RootOfTrust, RootOfTrustError } from './core/crypto/root-of-trust/root-of-trust.js';
import { FileRootOfTrust } from './core/crypto/root-of-trust/file.js';
import { DataDirError, checkDataDirParts, openKeyring, openRootKeyFile, openRootOfTrust, rootSettings, wrongRootKey } from './data-dir.js';
import { Authenticator } from './core/identity/authenticator.js';
import { CredentialStore } from './core/identity/credentials.js';
import { Iam } from './core/iam/iam.js';
import { SessionIssuer } from './core/identity/sessions.js';
import { IdentityPolicySource } from './core/policy/sources.js';
import { KmsAccessControl } from './core/kms/access-control.js';
import { Kms } from './core/kms/kms.js';
import { BodyGuard, UnverifiedBodyBudget } from './http/body.js';
import { explainRoute } from './http/explain-route.js';
import { explainService } from './services/explain/service.js';
import { ensureSelfSignedCertificate } from './http/self-signed.js';
import { createEdge, sendJson } from './http/server.js';
import { AwsJsonProtocol } from './protocols/aws-json/aws-json.js';
import { QueryProtocol, QueryService } from './protocols/query/query.js';
import { CLOUDTRAIL_TARGET_PREFIXES } from './services/cloudtrail/index.js';
import { cloudTrailService } from './services/cloudtrail/service.js';
import { iamService } from './services/iam/service.js';
import { stsService } from './services/sts/service.js';
import { KMS_TARGET_PREFIX } from './services/kms/index.js';
import { KmsClient } from './services/kms/kms-client.js';
import { KmsServicePrincipalClient } from './services/kms/service-principal-client.js';
import { keyResourceConditions } from './services/kms/conditions.js';
import { kmsService } from './services/kms/service.js';
import { ServiceDefinition } from './services/service.js';
import { openStores } from './stores.js';
import { ObjectKeys } from './core/s3/sse.js';
import { RestXmlProtocol } from './protocols/rest-xml/rest-xml.js';
import { S3AccessControl } from './services/s3/access.js';
import { s3Service } from './services/s3/service.js';
import { S3TrailDestination } from './services/s3/trail-destination.js';
import { VolumeExports } from './core/volumes/block-device.js';
import { ChunkStore } from './core/volumes/chunk-store.js';
import { EbsServiceKey } from './core/volumes/service-key.js';
import { VolumeExportsService } from './core/volumes/volume-exports.js';
import { Volumes } from './core/volumes/volumes.js';
import { EbsKms } from './services/ec2/kms-bridge.js';
import { ec2Service } from './services/ec2/service.js';
import { ebsService } from './services/ebs/service.js';
import { DirectSnapshots } from './core/volumes/direct-snapshots.js';
import { EbsErrors } from './core/errors/ebs.js';
import { EBS_BLOCK_BYTES } from './core/volumes/chunks.js';
import { RestJsonProtocol, RestJsonService } from './protocols/rest-json/rest-json.js';
import { XKS_ROUTE_PREFIX, XksProxy } from './services/xks-proxy/proxy.js';
import { STRONGROOM_VERSION } from './version.js';
import { NbdThread, nbdHere, superviseNbdThread } from './protocols/nbd/thread/host.js';
import { DEFAULT_XKS_CLIENT, XksClient } from './core/kms/xks/client.js';
import { KeyringSealedError } from './core/crypto/root-of-trust/root-of-trust.js';
import { ShamirParameters, ShamirRootOfTrust } from './core/crypto/root-of-trust/shamir.js';
import { SecretBytes } from './core/crypto/secret-bytes.js';
import { SealGate } from './sealing/seal-gate.js';
import { LocalSealControl, Sealable, SealControl } from './sealing/seal-control.js';
import { operatorRoutes } from './sealing/operator-route.js';
import { openOrCreateOperatorToken } from './sealing/operator-token.js';
import { sealedStartParameters } from './sealing/shamir-deployment.js';

/** How long a claim on one key's transition lasts if its process dies mid-way (a transition takes milliseconds). */
const KEY_TRANSITION_CLAIM_MS = 30_000;

/** How long close() lets open connections finish before cutting them. */
const CLOSE_GRACE_MS = 5_000;

export interface AppOptions {
  /** The domain clock (deletion windows, rotation); tests inject a ManualClock. */
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Tests only: wraps the audit log's durable sink (to make commits fail and show the server fails closed). */
  readonly auditSink?: (sink: AuditSink) => AuditSink;
  /**
   * The caches' invalidation port and TTL backstop (default: this process's own port, DEFAULT_CACHE_TTL_MS).
   * Tests connect two apps on one data dir with one port, as nodes sharing a database are.
   */
  readonly cache?: Partial<CacheSettings>;
  /**
   * The leases of the work that must happen once (key lifecycle sweep, trail delivery): how long one lasts
   * unrenewed (DEFAULT_LEASE_TTL_MS), who holds it (default: this process) and the clock their expiries are
   * read from (default: the domain clock). Tests shorten the TTL, and give the leases a clock of their own when
   * they move the domain clock by days (which would expire every lease at once).
   */
  readonly leases?: { readonly ttlMs?: number; readonly holder?: string; readonly clock?: Clock };
  /** How long a volume's open claim lasts unrenewed and how often an open device re-checks its key (tests shorten them). */
  readonly volumes?: { readonly leaseTtlMs?: number; readonly checkEveryMs?: number };
}

export interface App {
  readonly server: Server;
  readonly deployment: Deployment;
  readonly kms: Kms;
  /** KMS as other services call it on a user's behalf (kms:ViaService). */
  /** KMS as the services in this process call it (typed, through the one dispatch path). */
  readonly kmsClient: KmsClient;
  readonly log: Logger;
  readonly iam: Iam;
  /** The callers' IAM policies, for every service's authorizer (KMS's included). */
  readonly identityPolicies: IdentityPolicySource;
  /** EBS-style volumes and snapshots (what the EC2 API manages). */
  readonly volumes: Volumes;
  /** Attached volumes as block devices (what the NBD server serves). */
  readonly volumeExports: VolumeExports;
  /** Starts listening; resolves to the base URL. */
  listen(): Promise<string>;
  /** Where the NBD server listens once listen() resolved (nbd://HOST:PORT, nbds:// with TLS); undefined when off. */
  nbdUrl(): string | undefined;
  /** Stops accepting, finishes in-flight requests, closes the stores. */
  close(): Promise<void>;
  /** A deployment with key shares (README "Sealed start"): its sealing, and where its operator routes send shares (main.ts sets the primary's with workers). */
  readonly sealing?: Sealable & { control: SealControl };
}

/** Builds the whole server from its configuration (main.ts and the tests both use this). */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? pino({ level: config.logLevel });
  // A data dir that is only part of a deployment is refused before anything is made or written in it.
  checkDataDirParts(config);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  if (config.tls?.selfSigned) ensureSelfSignedCertificate(config.dataDir, config.host);

  // Commits are made durable off the event loop (SqliteDatabase.durable): the audit log awaits it for every call.
  const leaseClock = options.leases?.clock ?? clock;
  // SQLite: the key file first, as before the database exists (checkDataDirParts refused a database without
  // one), so that a start that dies in between never leaves a database whose key was not made yet.
  const sqliteRoot = config.databaseUrl === undefined && rootSettings(config).kind === 'file' ? openRootKeyFile(config) : undefined;
  const stores = await openStores(config, {
    asyncDurability: true,
    clock: leaseClock,
    log,
    ...(options.cache ? { cache: options.cache } : {}),
  });
  const store = stores.metadata;
  let root: RootOfTrust | undefined = sqliteRoot;
  let keyring: Keyring;
  let treeSigner: TreeHeadSigner | undefined;
  // A deployment split into key shares starts sealed: nothing is unwrapped (nor written) until they are given.
  let sealedStart: ShamirParameters | undefined;
  try {
    sealedStart = await sealedStartParameters(config, stores);
  } catch (err) {
    await stores.close();
    throw err;
  }
  if (sealedStart) keyring = new Keyring(stores.keyring);
  else try {
    // A database another node initialised is opened with its root of trust, never with a new one.
    root ??= await openRootOfTrust(config, stores);
    // The keyring between the root and every stored secret: unwrapped here, once (one HSM call with pkcs11);
    // from here on every component wraps and unwraps with it (src/core/crypto/README.md).
    keyring = await openKeyring(config, stores, root);
  } catch (err) {
    await stores.close();
    await root?.close();
    throw err;
  }

  // Every service commits its calls' records here (services/service.ts#dispatch), grouped per event-loop turn,
  // each group with a tree head signed by the audit key (made once, wrapped by the keyring). Opened first:
  // unwrapping it proves the keyring is the one the database was made with, before anything is written
  // with a wrong one (bootstrap would wrap configured root credentials with it).
  if (!sealedStart) try {
    treeSigner = await TreeHeadSigner.openOrCreate(stores.audit, keyring, clock.now());
  } catch (err) {
    await stores.close();
    keyring.seal();
    await root?.close();
    if (!(err instanceof RootOfTrustError)) throw err;
    // The keyring opened but does not open the audit key: the keyring row is not this database's own.
    throw root instanceof FileRootOfTrust ? wrongRootKey(config, stores.description, err) : new DataDirError(`the keyring does not open the keys wrapped in the database (${stores.description}: ${err.message}): its keyring row is not the one these keys were made with`);
  }
  const credentials = new CredentialStore(store, keyring, stores.iam, stores.cache);
  // Sealed: the account was named by `operator init`; it and its credentials are made at the first unseal.
  let deployment: Deployment = sealedStart
    ? { accountId: (await store.getSetting('account_id'))!, homeRegion: (await store.getSetting('home_region'))! }
    : await bootstrap(store, credentials, config, clock);
  await stores.durable(); // a new data dir's account and credentials, before anyone is told them
  const regions = config.regions ?? new Set([deployment.homeRegion]);
  // Sealed, there is no signer: the gate answers every request first, and a commit would fail closed.
  const signer = { sign: (...args: Parameters<TreeHeadSigner['sign']>) => {
    if (!treeSigner) throw new KeyringSealedError();
    return treeSigner.sign(...args);
  } };
  const audit = new AuditLog(options.auditSink ? options.auditSink(stores.audit) : stores.audit, signer, (err, records) =>
    log.error({ err, records }, 'audit records could not be committed; the calls were answered with an internal error'),
  );
  // KMS's own transitions (automatic rotation, deletion after the waiting period) are AwsServiceEvent records.
  // A key's transition is claimed first (a lease per key), so that of the servers finding it due at once one makes it.
  const identity = localIdentity();
  const transitionClaims = { leases: stores.leases, holder: options.leases?.holder ?? localHolder(), ...(identity ? { identity } : {}), ttlMs: KEY_TRANSITION_CLAIM_MS };
  // External key stores: their XKS proxies are called over HTTPS (src/core/kms/xks/client.ts).
  const xksClient = new XksClient(config.xksClient ?? DEFAULT_XKS_CLIENT);
  const kms = new Kms(store, keyring, clock, {
    customKeyStores: { store: stores.customKeyStores, client: xksClient },
    grants: stores.grantStore,
    lifecycleEvents: auditedKeyLifecycle(audit),
    transitionClaims,
    regions,
    lastUsageFlushFailed: (err) => log.error({ err }, 'writing the KMS keys\' last uses failed; they are written at the next flush'),
    invalidation: stores.cache.port,
  });
  const kmsAccess = new KmsAccessControl(stores.identityPolicies, stores.grants, (key) => keyResourceConditions(store, key));
  const kmsDefinition = { ...kmsService(kms, kmsAccess), audit };
  // S3's objects: what the S3 service serves and where trails deliver.
  // Small sealed bodies (most objects of many workloads) go to the database, committed in groups; the rest to files.
  const blobs = await stores.blobs();
  const s3Deps = { store: stores.s3, blobs, keys: new ObjectKeys(keyring, stores.s3, () => clock.now()), clock, options: config.s3 };
  // CloudTrail trails deliver into S3 buckets as the CloudTrail service: CreateTrail checks the bucket and its
  // policy, the delivery loop writes log and digest files (src/core/audit/trail-delivery.ts).
  // SSE-KMS log files (a trail's KmsKeyId, or the bucket's default): KMS called as cloudtrail.amazonaws.com.
  const trailDestination = new S3TrailDestination(s3Deps, new KmsServicePrincipalClient(kms, audit));
  const trails = stores.trails;
  const digestKeys = new DigestSigningKeys(trails, keyring);
  const cloudTrailDefinition = {
    ...cloudTrailService(stores.audit, stores.identityPolicies, clock, { trails, signingKeys: digestKeys, bucketCheck: trailDestination }),
    audit,
  } as ServiceDefinition<unknown>;
  const trailDelivery = new TrailDelivery(
    trails,
    stores.trailDelivery,
    trailDestination,
    digestKeys,
    clock,
    config.trails ?? DEFAULT_TRAIL_CONFIG,
    {
      failed: (err, trailArn) => log.error({ err, trailArn }, 'trail delivery failed; it is retried at the next interval'),
      // What the trail's owner can fix (bucket gone, policy, KMS key): one warning per trail, kind and error per interval.
      refused: (r) => log.warn({ trailArn: r.trailArn, kind: r.kind, error: r.code, bucket: r.bucket, key: r.key }, 'trail delivery refused; it is retried at the next interval'),
      resumed: (trailArn, kind, bucket) => log.info({ trailArn, kind, bucket }, 'trail delivery resumed'),
    },
  );
  const jsonServices = new Map<string, ServiceDefinition<unknown>>([
    [KMS_TARGET_PREFIX, kmsDefinition as ServiceDefinition<unknown>],
    ...CLOUDTRAIL_TARGET_PREFIXES.map((prefix) => [prefix, cloudTrailDefinition] as const),
  ]);
  const regionsSetting = regions === '*' ? '*' : [...regions].join(',');
  const authenticator = new Authenticator(credentials, regions, clock, regionsSetting);
  const iam = new Iam(stores.iam, stores.identityPolicies, credentials, clock, store);
  const sessions = new SessionIssuer(stores.iam, credentials, clock);
  const iamDefinition = { ...iamService(iam, clock), audit };
  // IAM and STS are global services: SDKs sign them for us-east-1 whatever region the deployment serves.
  const globalRegions = regions === '*' ? regions : new Set([...regions, 'us-east-1']);
  const kmsClient = new KmsClient(kms, kmsDefinition);
  // EBS-style volumes: chunk maps in the metadata store, sealed chunks in segment blobs of the blob store.
  const volumes = new Volumes(
    stores.volumes,
    new ChunkStore(stores.volumes, blobs, () => stores.durable()),
    new EbsServiceKey(keyring, stores.volumes),
    new EbsKms(kms, stores.grantStore, audit),
    () => clock.now(),
  );
  const volumeExports = new VolumeExportsService(volumes, stores.leases, {
    ...(options.leases?.holder !== undefined ? { holder: options.leases.holder } : {}),
    now: () => clock.now(),
    ...options.volumes,
  });
  const ec2Definition = { ...ec2Service(volumes, kmsClient, stores.identityPolicies, clock), audit } as QueryService;
  // EC2 (the EBS volume subset) speaks Query's EC2 flavour on the same endpoint (SigV4 service ec2).
  const queryServices = [iamDefinition, { ...stsService(iam, sessions, clock), audit }, ec2Definition] as QueryService[];
  // The EBS direct APIs (REST-JSON, SigV4 service ebs) write and read the same snapshots' blocks.
  const ebsDefinition = { ...ebsService(new DirectSnapshots(volumes, () => clock.now()), kmsClient, stores.identityPolicies, clock), audit };
  const s3Definition = {
    ...s3Service(
      s3Deps,
      kmsClient,
      new S3AccessControl(stores.identityPolicies),
    ),
    audit,
  };
  // One budget for every body buffered before its signature is verified (KMS, CloudTrail, IAM, STS, explain).
  const bodyLimits = config.bodies ?? DEFAULT_BODY_LIMITS;
  const bodyGuard: BodyGuard = { budget: new UnverifiedBodyBudget(bodyLimits.unverifiedBudgetBytes), idleMs: bodyLimits.idleTimeoutMs };
  const jsonProtocol = new AwsJsonProtocol(jsonServices, authenticator, log, bodyGuard);
  // POST /_strongroom/explain: an operation of its own service, through the same dispatch (authorization, audit).
  const explainDefinition = {
    ...explainService({ kms, access: kmsAccess, kmsService: kmsDefinition, iamService: iamDefinition }),
    audit,
  } as ServiceDefinition<unknown>;
  const protocols = [
    jsonProtocol,
    new RestJsonProtocol(
      [{ definition: ebsDefinition as unknown as RestJsonService['definition'], validation: EbsErrors.ValidationException, throttled: EbsErrors.RequestThrottledException, maxPayloadBytes: EBS_BLOCK_BYTES }],
      authenticator,
      log,
      bodyGuard,
    ),
    new QueryProtocol(queryServices, new Authenticator(credentials, globalRegions, clock, regionsSetting), log, bodyGuard, new Map([[ec2Definition.signingName, authenticator]])),
    // S3 last: it claims whatever the JSON and Query protocols did not.
    new RestXmlProtocol(s3Definition, authenticator, config.s3.domains, log, bodyLimits.idleTimeoutMs),
  ];
  let ready = false;
  const gate = sealedStart ? new SealGate(true) : undefined;
  let sealing: (Sealable & { control: SealControl }) | undefined;
  const operatorToken = sealedStart ? openOrCreateOperatorToken(config.dataDir) : undefined;
  const server = createEdge({
    ...(gate ? { gate: (ex) => gate.admit(ex) } : {}),
    protocols,
    // Derived from the definitions wired above, so the edge's "not served" answer cannot drift from them.
    served: {
      signingNames: [...new Set([kmsDefinition, s3Definition, ...queryServices, cloudTrailDefinition, ebsDefinition].map((s) => s.signingName))],
      jsonTargetPrefixes: new Set(jsonServices.keys()),
    },
    log,
    ...(config.tls ? { tls: readTls(config)! } : {}),
    // On SQLite, the caches catch up with the other workers' changes before each request is served.
    ...(stores.cache.port.sync ? { beforeRequest: oncePerTurn(() => stores.cache.port.sync!()) } : {}),
    routes: new Map([
      // 503 while starting, or while the database does not answer (PostgreSQL down: the load balancer's cue).
      ['health', (ex) => {
        const status = !ready ? 'starting' : gate?.sealed ? 'sealed' : stores.reachable() ? 'ok' : 'database unreachable';
        sendJson(ex.res, status === 'ok' ? 200 : 503, { status });
      }],
      ['explain', explainRoute(jsonProtocol, explainDefinition)],
      ...(sealedStart ? operatorRoutes(() => sealing!.control, () => operatorToken!) : []),
    ]),
    // The XKS proxy API over this server's KMS keys, when proxy credentials are configured.
    ...(config.xksProxy
      ? {
          prefixRoutes: new Map([
            [XKS_ROUTE_PREFIX, new XksProxy({ config: config.xksProxy, store, materials: kms.deps.materials, clock, log, reachable: () => stores.reachable(), version: STRONGROOM_VERSION }).route],
          ]),
        }
      : {}),
  });

  // Work that must happen once across the processes and nodes sharing the database runs under a lease each
  // (src/core/leases): the key lifecycle sweep and trail delivery. A holder that dies stops renewing; another
  // process takes the lease over after its TTL and sweeps at once.
  const leaseOptions = {
    leases: stores.leases,
    clock: leaseClock,
    ...(options.leases?.ttlMs !== undefined ? { ttlMs: options.leases.ttlMs } : {}),
    ...(options.leases?.holder !== undefined ? { holder: options.leases.holder } : {}),
  };
  const sweepOnce = (held: () => boolean) => kms.lifecycle.sweep(held).catch((err: unknown) => log.error({ err }, 'key lifecycle sweep failed'));
  const lifecycleLease = new LeasedJob({
    ...leaseOptions,
    name: 'kms-lifecycle',
    failed: (err) => log.error({ err }, 'key lifecycle lease could not be renewed'),
    acquired: async (guard) => void (await sweepOnce(guard.held)),
  });
  const deliveryLease = new LeasedJob({ ...leaseOptions, name: 'trail-delivery', failed: (err) => log.error({ err }, 'trail delivery lease could not be renewed') });
  // Every process sweeps what writers that died left half-written (only bodies untouched for long: another
  // process's upload in progress is left alone); no lease needed, sweeping twice removes nothing twice.
  const sweepBlobs = () =>
    blobs.sweepIncomplete().then(
      (swept) => void (swept > 0 && log.warn({ swept }, 'removed object bodies that a process which died left half-written')),
      (err: unknown) => log.error({ err }, 'sweeping half-written object bodies failed'),
    );
  // A keyring key added by another node or an offline command (operator rotate-keyring) is used for new writes here too.
  const refreshKeyring = () => keyring.refresh().catch((err: unknown) => log.error({ err }, 'reloading the keyring failed; the keys in memory stay in use'));
  const sweep = () => Promise.all([lifecycleLease.run((guard) => sweepOnce(guard.held)), sweepBlobs(), refreshKeyring()]);
  let timer: NodeJS.Timeout | undefined;
  // Attached volumes as NBD exports (--nbd-listen): started with the HTTP server, stopped first at close.
  let nbd: NbdThread | undefined;
  let nbdPort: number | undefined;
  const startBackground = async () => {
    // Keys' last uses are noted in memory and written every few seconds (src/core/kms/key-last-usage.ts).
    await kms.lastUsage.start();
    timer = setInterval(sweep, config.sweepIntervalMs);
    timer.unref();
    lifecycleLease.start();
    deliveryLease.start();
    trailDelivery.start((step) => deliveryLease.run(step));
    // In a thread of its own (src/protocols/nbd/thread); under node:cluster in one worker process only (main.ts).
    if (config.nbd && nbdHere()) {
      // Started again at an unseal: on the port it had (when --nbd-listen asked for port 0, the one it was given).
      nbd = await superviseNbdThread({ ...config.nbd, port: nbdPort ?? config.nbd.port }, {
        exports: volumeExports,
        store: stores.volumes,
        blobs,
        durable: () => stores.durable(),
        ...(config.databaseUrl ? {} : { fileBlobsDir: config.dataDir }),
        log,
        logLevel: config.logLevel,
      });
      nbdPort = Number(new URL(nbd.url).port);
    }
  };
  // What startBackground started, stopped (at a seal and at shutdown; NBD is closed before, by the caller).
  const stopBackground = async (moment: 'seal' | 'shutdown') => {
    if (timer) clearInterval(timer);
    timer = undefined;
    await audit.flush();
    // The uses this process saw since its last flush (every call is answered by now).
    await kms.lastUsage.stop().catch((err: unknown) => log.error({ err }, `writing the KMS keys' last uses at ${moment} failed`));
    // A last log delivery of what was committed (cheap; AWS has no such moment). Digests wait for their interval.
    await trailDelivery.stop();
    // Given up, so another process takes the work over at once rather than after the TTL.
    await lifecycleLease.stop();
    await deliveryLease.stop();
  };
  if (sealedStart) {
    const params = sealedStart;
    const sealable: Sealable = {
      params,
      get sealed() {
        return gate!.sealed;
      },
      // The rebuilt key must open the keyring (the check value; RootOfTrustError otherwise), then what start does unsealed.
      async unsealWith(key: SecretBytes) {
        const shamir = new ShamirRootOfTrust(key, params);
        try {
          await keyring.unseal(shamir);
          treeSigner = await TreeHeadSigner.openOrCreate(stores.audit, keyring, clock.now());
          deployment = await bootstrap(store, credentials, config, clock);
          await stores.durable();
          if (deployment.generatedRoot) log.warn({ file: `${config.dataDir}/credentials` }, 'root credentials generated at the first unseal and saved to the data dir\'s credentials file (mode 0600)');
          await sweep();
          await startBackground();
        } catch (err) {
          keyring.seal();
          treeSigner = undefined;
          await shamir.close();
          throw err;
        }
        root = shamir;
        gate!.open();
        // The NBD server (started again at this unseal) is where the banner could not say when its port was 0.
        log.warn({ setId: params.setId, ...(nbd ? { nbd: `${nbd.url}/<volume-id>` } : {}) }, 'unsealed');
      },
      // Refuses new requests, lets those in flight finish, stops the background work, then wipes every key in memory.
      async seal() {
        if (gate!.sealed) return;
        await gate!.close();
        await nbd?.close();
        nbd = undefined;
        await stopBackground('seal');
        keyring.seal();
        treeSigner = undefined;
        kms.deps.materials.wipeAll();
        kms.customKeyStores?.forgetSecrets();
        credentials.forgetAll();
        s3Deps.keys.forget();
        digestKeys.forget();
        volumes.serviceKey.forget();
        await root?.close();
        root = undefined;
        log.warn({ setId: params.setId }, 'sealed: every key in memory was wiped');
      },
    };
    sealing = Object.assign(sealable, { control: new LocalSealControl(sealable) as SealControl });
  }

  return {
    server,
    deployment,
    kms,
    kmsClient,
    log,
    iam,
    identityPolicies: stores.identityPolicies,
    volumes,
    volumeExports,
    async listen() {
      if (!gate?.sealed) await sweep();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      // Sealed: the background work (and NBD) starts at the unseal.
      if (!gate?.sealed) await startBackground();
      ready = true;
      const { port } = server.address() as AddressInfo;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      return `${config.tls ? 'https' : 'http'}://${host}:${port}`;
    },
    nbdUrl: () => nbd?.url,
    ...(sealing ? { sealing } : {}),
    async close() {
      ready = false;
      if (timer) clearInterval(timer);
      // NBD clients' in-flight requests finish and their volumes close (flushing) while the stores are still open.
      await nbd?.close();
      // Finish in-flight requests; keep-alive connections that stay open past a grace period are cut.
      await new Promise<void>((resolve) => {
        const grace = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        server.close(() => {
          clearTimeout(grace);
          resolve();
        });
        server.closeIdleConnections();
      });
      await stopBackground('shutdown');
      xksClient.close();
      await stores.close();
      keyring.seal();
      await root?.close();
    },
  };
}

/**
 * `fn` at most once per event-loop turn. Enough for the caches' catch-up before each request: every request
 * handled in a turn had arrived before that turn's poll for I/O returned, so the turn's first call — made after
 * that — already sees every change whose answer its client had received before sending it.
 */
function oncePerTurn(fn: () => void): () => void {
  let done = false;
  const reset = () => {
    done = false;
  };
  return () => {
    if (done) return;
    done = true;
    fn();
    setImmediate(reset);
  };
}
