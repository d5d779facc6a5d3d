const SECRET_QUERY_VALUE = /([?&](?:password|token|access_token)=)[^&#]*/gi;
const USER_INFO_PASSWORD = /\/\/([^:@/]*):[^@/]*@/;

/**
 * A URL or request path fit for a log line or an error (SPEC §7.6): the password of `user:password@` and the
 * values of `password`, `token` and `access_token` query parameters are replaced by `***`.
 */
export function redactUrl(text: string): string {
  const withoutUserPassword = text.includes('@') ? text.replace(USER_INFO_PASSWORD, '//$1:***@') : text;
  return withoutUserPassword.includes('?') ? withoutUserPassword.replace(SECRET_QUERY_VALUE, '$1***') : withoutUserPassword;
}
