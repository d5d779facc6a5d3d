const SECRET_QUERY_VALUE = /([?&](?:password|token|access_token|id_token|refresh_token|client_secret|code|state)=)[^&#]*/gi;
// Greedy to the last `@`: a password may hold `@` or `/` unencoded (hiding too much is the safe side).
const USER_INFO_PASSWORD = /\/\/([^:@/\s]*):\S*@/;

/**
 * A URL or request path fit for a log line or an error (SPEC §7.6): the password of `user:password@` and the
 * values of `password`, `token`, `access_token`, `id_token`, `refresh_token`, `client_secret` and the OAuth
 * `code` and `state` query parameters are replaced by `***`.
 */
export function redactUrl(text: string): string {
  const withoutUserPassword = text.includes('@') ? text.replace(USER_INFO_PASSWORD, '//$1:***@') : text;
  return withoutUserPassword.includes('?') ? withoutUserPassword.replace(SECRET_QUERY_VALUE, '$1***') : withoutUserPassword;
}
