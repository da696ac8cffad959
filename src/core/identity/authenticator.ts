import { SignableRequest, sha256Hex } from './sigv4/canonical-request.js';
import { PendingSigV4, SigV4Error, Verified, precheckSigV4 } from './sigv4/verify.js';
import { CredentialStore } from './credentials.js';
import { Clock, systemClock } from '../clock.js';
import { verifyPostSignature } from './sigv4/post-policy.js';
import { Principal } from './principal.js';

/** Regions this deployment serves: a list, or every region (`*`). */
export type RegionSet = '*' | ReadonlySet<string>;

/**
 * Authenticates a request by SigV4 for one service: the credential scope must name that service and a
 * served region; the key must be known and active; the signature must match.
 */
export class Authenticator {
  constructor(
    private readonly credentials: CredentialStore,
    private readonly regions: RegionSet,
    /** The domain clock: STS sessions expire by it (the signature's clock skew is checked on the wall clock). */
    private readonly clock: Clock = systemClock,
    /** The regions the operator configured (STRONGROOM_REGIONS), named in the wrong-region error; default `regions`. */
    private readonly regionsSetting: string = regions === '*' ? '*' : [...regions].join(','),
  ) {}

  /**
   * S3: `bodySha256` gives the SHA-256 the client claims (x-amz-content-sha256) — the caller checks the bytes
   * against it as they stream. `mustSign`: the headers the protocol acts on (they are refused unless signed).
   */
  async authenticate(req: SignableRequest, bodySha256: () => string, service: string, s3: boolean, mustSign?: (name: string) => boolean): Promise<Verified> {
    return (await this.#begin(req, service, s3, mustSign)).finish(bodySha256);
  }

  /**
   * The protocols that sign the body's hash (AWS JSON, Query): every check that does not need the body
   * (scheme, date, scope, must-sign headers, the key, its session) is made before `read` buffers it, so a
   * request that will be refused is refused without holding its body; then the signature over it.
   */
  async authenticateBuffered(
    req: SignableRequest,
    service: string,
    read: () => Promise<Buffer>,
    mustSign?: (name: string) => boolean,
    /** The operation's model says `unsignedPayload` (VerifyOptions.unsignedPayload). */
    unsignedPayload = false,
  ): Promise<{ verified: Verified; body: Buffer }> {
    const pending = await this.#begin(req, service, false, mustSign, unsignedPayload);
    const body = await read();
    return { verified: pending.finish(() => sha256Hex(body)), body };
  }

  #begin(req: SignableRequest, service: string, s3: boolean, mustSign?: (name: string) => boolean, unsignedPayload = false): Promise<PendingSigV4> {
    return precheckSigV4(req, {
      s3,
      ...(unsignedPayload ? { unsignedPayload } : {}),
      ...(mustSign ? { mustSign } : {}),
      now: Date.now(),
      sessionNow: this.clock.now(),
      lookup: (id) => this.credentials.lookup(id),
      checkScope: (region, scopeService) => this.#checkScope(region, scopeService, service),
    });
  }

  /** S3 POST Object: the form's policy signature (sigv4/post-policy.ts), scoped to `service` and a served region. */
  authenticatePostPolicy(field: (name: string) => string | undefined, service: string): Promise<{ principal: Principal; region: string }> {
    return verifyPostSignature(field, {
      sessionNow: this.clock.now(),
      lookup: (id) => this.credentials.lookup(id),
      checkScope: (region, scopeService) => this.#checkScope(region, scopeService, service),
    });
  }

  #checkScope(region: string, scopeService: string, service: string): void {
    if (scopeService !== service) throw new SigV4Error('scope', `Credential should be scoped to correct service: '${service}'. `);
    if (this.regions !== '*' && !this.regions.has(region)) {
      // Say what to do: the region, the regions served, and the setting that adds one.
      throw new SigV4Error(
        'scope',
        `Credential should be scoped to a valid region. '${region.slice(0, 64)}' is not served by this deployment (STRONGROOM_REGIONS: ${this.regionsSetting}); sign for a served region, or add '${region.slice(0, 64)}' to STRONGROOM_REGIONS.`,
      );
    }
  }
}
