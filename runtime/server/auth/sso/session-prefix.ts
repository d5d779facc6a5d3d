/**
 * The prefix that selects SSO mode (SPEC §7.7) and precedes the JWE in the `authorization` cookie. It has
 * its own module so that choosing a mode never loads the SSO libraries.
 */
export const SESSION_PREFIX = 'Bearer v2:';
