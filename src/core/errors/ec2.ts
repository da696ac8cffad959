import { defineErrors } from './aws-error.js';

/**
 * EC2's error codes (its XML: `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`).
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html — client errors are 400,
 * UnauthorizedOperation and the authentication failures 403 (AuthFailure, as EC2 answers a bad signature),
 * server errors 500/503.
 */
export const Ec2Errors = defineErrors({
  AuthFailure: { status: 401, fault: 'client' },
  DryRunOperation: { status: 412, fault: 'client' },
  IncorrectState: { status: 400, fault: 'client' },
  /** ModifyVolume of a volume whose previous modification is still 'modifying' or 'optimizing'. */
  IncorrectModificationState: { status: 400, fault: 'client' },
  InternalError: { status: 500, fault: 'server', retryable: true },
  /** EC2's 'The server is overloaded and can't handle the request' (Strongroom: sealed); retried by the SDKs. https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html */
  Unavailable: { status: 503, fault: 'server', retryable: true },
  InvalidAction: { status: 400, fault: 'client' },
  /** A user id or group of ModifySnapshotAttribute's createVolumePermission that is not valid (as for image attributes). */
  InvalidAMIAttributeItemValue: { status: 400, fault: 'client' },
  OperationNotPermitted: { status: 400, fault: 'client' },
  'InvalidAttachment.NotFound': { status: 400, fault: 'client' },
  InvalidParameter: { status: 400, fault: 'client' },
  InvalidParameterCombination: { status: 400, fault: 'client' },
  InvalidParameterValue: { status: 400, fault: 'client' },
  'InvalidSnapshot.NotFound': { status: 400, fault: 'client' },
  'InvalidSnapshot.InUse': { status: 400, fault: 'client' },
  'InvalidVolume.NotFound': { status: 400, fault: 'client' },
  'InvalidVolume.ZoneMismatch': { status: 400, fault: 'client' },
  /** DescribeVolumesModifications of a volume never modified. */
  'InvalidVolumeModification.NotFound': { status: 400, fault: 'client' },
  'InvalidZone.NotFound': { status: 400, fault: 'client' },
  'InvalidKmsKey.NotFound': { status: 400, fault: 'client' },
  'InvalidKMSKey.InvalidState': { status: 400, fault: 'client' },
  InvalidParameterDependency: { status: 400, fault: 'client' },
  'InvalidInstanceID.Malformed': { status: 400, fault: 'client' },
  'InvalidVolumeID.Malformed': { status: 400, fault: 'client' },
  'InvalidSnapshotID.Malformed': { status: 400, fault: 'client' },
  KmsKeyNotAccessible: { status: 400, fault: 'client' },
  MissingParameter: { status: 400, fault: 'client' },
  RequestLimitExceeded: { status: 503, fault: 'client', retryable: true },
  UnauthorizedOperation: { status: 403, fault: 'client' },
  Unsupported: { status: 400, fault: 'client' },
  VolumeInUse: { status: 400, fault: 'client' },
  /** ModifyVolume within the cooldown after the volume's previous modification (AWS: six hours). */
  VolumeModificationRateExceeded: { status: 400, fault: 'client' },
});
