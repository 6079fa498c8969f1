/** Why a credential was refused. For logs and metrics only: clients always see UNAUTHORIZED. */
export type AuthFailureReason =
  | 'MISSING_TOKEN'
  | 'MALFORMED_TOKEN'
  | 'TOKEN_TOO_LARGE'
  | 'UNSUPPORTED_HEADER'
  | 'ALGORITHM_MISMATCH'
  | 'INVALID_SIGNATURE'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_NOT_YET_VALID'
  | 'INVALID_CLAIMS'
  | 'UNKNOWN_USER'
  | 'INACTIVE_USER'
  | 'INVALID_TICKET'
  | 'INVALID_CREDENTIALS'
  // Key rotation, revocation and lifetime.
  | 'UNKNOWN_KEY'
  | 'TOKEN_REVOKED'
  | 'LIFETIME_TOO_LONG'
  // A stream's credential: a JWT in the URL, or a ticket alongside a header.
  | 'TOKEN_IN_URL'
  | 'CONFLICTING_CREDENTIALS';

export class AuthFailure extends Error {
  constructor(readonly reason: AuthFailureReason) {
    super(reason);
    this.name = 'AuthFailure';
  }
}
