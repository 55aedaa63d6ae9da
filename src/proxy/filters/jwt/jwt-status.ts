/**
 * Why a token failed, as Envoy's jwt_authn (google/jwt_verify_lib) words
 * it: the text is the 401/403 body and, with spaces as underscores, the
 * response code details (jwt_authn_access_denied{...}).
 */
export const JwtStatus = {
  Ok: 'OK',
  Missed: 'Jwt is missing',
  NotYetValid: 'Jwt not yet valid',
  Expired: 'Jwt is expired',
  BadFormat: 'Jwt is not in the form of Header.Payload.Signature',
  HeaderParseError: 'Jwt header is an invalid Base64url input or an invalid JSON',
  HeaderBadAlg: 'Jwt header [alg] field is not a string',
  HeaderNotImplementedAlg: 'Jwt header [alg] field value is invalid',
  HeaderBadKid: 'Jwt header [kid] field is not a string',
  PayloadParseError: 'Jwt payload is an invalid Base64 or an invalid JSON',
  SignatureParseError: 'Jwt signature is an invalid Base64',
  UnknownIssuer: 'Jwt issuer is not configured',
  AudienceNotAllowed: 'Audiences in Jwt are not allowed',
  VerificationFail: 'Jwt verification fails',
  JwksNoValidKeys: "Jwks doesn't have any valid public key",
  JwksKidAlgMismatch: "Jwks doesn't have key to match kid or alg from Jwt",
} as const;

export type JwtStatus = (typeof JwtStatus)[keyof typeof JwtStatus];
