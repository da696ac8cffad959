import { AwsJsonProtocol } from '../protocols/aws-json/aws-json.js';
import { ServiceDefinition } from '../services/service.js';
import { Exchange } from './exchange.js';

/**
 * POST /_strongroom/explain, signed with SigV4 for service `kms`:
 *   {"principal": "arn:aws:iam::111122223333:user/alice", "action": "kms:Decrypt", "key": "alias/x",
 *    "context": {"dept": "hr"}}
 * answers the decision and the statements behind it. It is an AWS JSON call like any other (body limits,
 * authentication, authorization, audit record), of the explain service (services/explain), which asks the
 * caller for the rights AWS would ask to read what the answer shows.
 */
export function explainRoute(json: AwsJsonProtocol, explain: ServiceDefinition<unknown>): (ex: Exchange) => void {
  return (ex) => {
    void json.handleOperation(ex, explain, 'Explain');
  };
}
