/** A CloudTrail trail as stored (migration 007, table cloudtrail_trails). */
export interface TrailRecord {
  readonly accountId: string;
  /** The home region: where it was created, where it is changed. */
  readonly region: string;
  readonly name: string;
  readonly arn: string;
  readonly s3BucketName: string;
  readonly s3KeyPrefix: string | null;
  readonly snsTopicName: string | null;
  readonly includeGlobalServiceEvents: boolean;
  readonly isMultiRegionTrail: boolean;
  readonly logFileValidationEnabled: boolean;
  readonly cloudWatchLogsLogGroupArn: string | null;
  readonly cloudWatchLogsRoleArn: string | null;
  readonly kmsKeyId: string | null;
  /** PutEventSelectors' EventSelectors as JSON; null: the default (all management events). */
  readonly eventSelectors: string | null;
  readonly advancedEventSelectors: string | null;
  readonly isLogging: boolean;
  readonly startLoggingTime: number | null;
  readonly stopLoggingTime: number | null;
  readonly createdAt: number;
}

/** How far a trail's delivery got (table cloudtrail_delivery; SQLite's older last_digest_end_time and previous_digest_* columns are unused since migration 009 moved the digest chains to cloudtrail_digest_chains). */
export interface TrailDeliveryState {
  readonly trailArn: string;
  /** The last audit record sequence number delivered in a log file. */
  readonly deliveredSeq: number;
  readonly lastLogDeliveryTime: number | null;
  readonly lastLogDeliveryError: string | null;
  readonly lastDigestDeliveryTime: number | null;
  readonly lastDigestDeliveryError: string | null;
}

/** A region's digest signing key pair (table cloudtrail_signing_keys). */
export interface SigningKeyRecord {
  readonly region: string;
  readonly fingerprint: string;
  /** DER PKCS#1 RSAPublicKey. */
  readonly publicKey: Buffer;
  /** DER PKCS#8, wrapped by the root of trust. */
  readonly wrappedPrivateKey: Buffer;
  readonly validFrom: number;
  readonly validTo: number;
}

/** What UpdateTrail, PutEventSelectors and Start/StopLogging change. */
export type TrailPatch = Partial<
  Pick<
    TrailRecord,
    | 's3BucketName'
    | 's3KeyPrefix'
    | 'includeGlobalServiceEvents'
    | 'isMultiRegionTrail'
    | 'logFileValidationEnabled'
    | 'kmsKeyId'
    | 'eventSelectors'
    | 'advancedEventSelectors'
    | 'isLogging'
    | 'startLoggingTime'
    | 'stopLoggingTime'
  >
>;

/**
 * CloudTrail's trails, their delivery state and the digest signing keys: async, so a networked backend
 * (PostgreSQL) implements it as well as SQLite (issue 10). Implementations run test/contract/trail-store.contract.ts.
 */
export interface TrailStore {
  /** Inserts; false when the account already has a trail of that name in that region. */
  createTrail(trail: TrailRecord): Promise<boolean>;
  getTrail(accountId: string, region: string, name: string): Promise<TrailRecord | undefined>;
  /** The account's trails: those whose home is `region`, and multi-region trails from anywhere. */
  listTrails(accountId: string, region: string): Promise<TrailRecord[]>;
  /** Every trail of the account, whatever its home region (ListTrails). */
  listAccountTrails(accountId: string): Promise<TrailRecord[]>;
  updateTrail(arn: string, patch: TrailPatch): Promise<void>;
  deleteTrail(arn: string): Promise<void>;
  /**
   * StartLogging: delivery starts after the last record committed now (the StartLogging record itself is
   * the first delivered); a trail started again does not deliver what happened while it was stopped.
   */
  startDelivery(arn: string): Promise<void>;
  /** Every logging trail (the delivery loop's work). */
  loggingTrails(): Promise<TrailRecord[]>;
  delivery(arn: string): Promise<TrailDeliveryState | undefined>;
  signingKeys(region: string): Promise<SigningKeyRecord[]>;
  addSigningKey(key: SigningKeyRecord): Promise<void>;
}
