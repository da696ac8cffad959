import { KeyRecord } from '../../../store/metadata/types.js';
import { defineOperation } from '../../operation.js';
import { KmsAccess, KmsCall, onKey } from '../call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdatePrimaryRegion.html */
interface Input {
  KeyId: string;
  PrimaryRegion: string;
}

interface State {
  readonly primary: KeyRecord;
  readonly replica: KeyRecord | undefined;
}

/**
 * Makes the replica in PrimaryRegion the primary key and the primary a replica. Required permissions as AWS
 * documents them: kms:UpdatePrimaryRegion on the current primary key and on the replica key in
 * PrimaryRegion, each by its own key policy; kms:PrimaryRegion is the Region asked for. The key is named
 * by key id or key ARN.
 */
export const UpdatePrimaryRegion = defineOperation<KmsCall, Input, State, KmsAccess>({
  name: 'UpdatePrimaryRegion',
  action: 'kms:UpdatePrimaryRegion',
  readOnly: false,
  resolve: async (input, call) => {
    const primary = await call.kms.resolver.resolve(call.scope, input.KeyId, { aliases: false });
    const replica = primary.multiRegion && input.PrimaryRegion !== primary.region
      ? await call.kms.resolver.inRegion(primary.keyId, primary.accountId, input.PrimaryRegion)
      : undefined;
    const conditions = { 'kms:PrimaryRegion': input.PrimaryRegion };
    const access = [onKey(primary, 'kms:UpdatePrimaryRegion', { conditions })];
    if (replica) access.push(onKey(replica, 'kms:UpdatePrimaryRegion', { conditions: { ...conditions, 'aws:RequestedRegion': input.PrimaryRegion } }));
    return { access, state: { primary, replica } };
  },
  handle: async (input, call, { primary, replica }) => {
    await call.kms.multiRegion.updatePrimaryRegion(primary, replica, input.PrimaryRegion);
    return {};
  },
});
