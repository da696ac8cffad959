/** A client that broke the protocol (or failed TLS): the connection is closed, nothing more is said. */
export class ProtocolViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolViolation';
  }
}
