import { rootCertificates } from 'node:tls';
import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import type { SsoConfig } from '../../../config/sso-section.js';

/** What the callback learns from the identity provider about the person who signed in. */
export interface SignedInPerson {
  readonly sub: string;
  readonly claims: Readonly<Record<string, unknown>>;
  /** Before `filterGroupsRegex`. */
  readonly groups: readonly string[];
}

/** The values that tie one authorization request to its callback. */
export interface SignInChecks {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

/** A step of the callback that failed, and a short reason safe to show (never a token or a secret). */
export class SignInFailure extends Error {
  constructor(
    readonly status: 400 | 401,
    message: string,
  ) {
    super(message);
  }
}

const REQUEST_TIMEOUT_SECONDS = 10;

/**
 * The OpenID Provider as seen through `openid-client`: discovery at start, the authorization URL with
 * state, nonce and PKCE S256, the code exchange with ID-token verification, and groups. Every call goes
 * through one HTTP client that trusts the system CAs plus `rootCA` (or nothing, with `insecureSkipVerify`).
 */
export class IdentityProvider {
  readonly #sso: SsoConfig;
  readonly #discoveredIssuer: string;
  readonly #basic: oidc.Configuration;
  readonly #post: oidc.Configuration;
  /** Argo's x/oauth2 behaviour: HTTP Basic first; once the body works, keep using it. */
  #useBody = false;

  private constructor(sso: SsoConfig, discoveredIssuer: string, basic: oidc.Configuration, post: oidc.Configuration) {
    this.#sso = sso;
    this.#discoveredIssuer = discoveredIssuer;
    this.#basic = basic;
    this.#post = post;
  }

  /** Discovers the provider; the error names the issuer and the reason. */
  static async discover(sso: SsoConfig, clientId: string, clientSecret: string): Promise<IdentityProvider> {
    const fetchThroughAgent = providerFetch(sso);
    const insecureHttp = new URL(sso.issuer).protocol === 'http:';
    const options: oidc.DiscoveryRequestOptions = {
      [oidc.customFetch]: fetchThroughAgent,
      timeout: REQUEST_TIMEOUT_SECONDS,
      ...(insecureHttp ? { execute: [oidc.allowInsecureRequests] } : {}),
    };
    // With issuerAlias the discovery document's issuer is not compared (as Argo); ID tokens must carry the alias.
    const server = sso.issuerAlias === undefined ? new URL(sso.issuer) : new URL(`${sso.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
    let discovered: oidc.Configuration;
    try {
      discovered = await oidc.discovery(server, clientId, clientSecret, oidc.ClientSecretBasic(clientSecret), options);
    } catch (error) {
      throw new Error(`sso.issuer: OpenID Connect discovery at ${sso.issuer} failed: ${describe(error)}`);
    }
    const { supportsPKCE: _helper, ...discoveredMetadata } = discovered.serverMetadata();
    // The authorization response's RFC 9207 `iss` names the discovered issuer, not the alias: `complete` checks it.
    const metadata: oidc.ServerMetadata = {
      ...discoveredMetadata,
      ...(sso.issuerAlias === undefined ? {} : { issuer: sso.issuerAlias, authorization_response_iss_parameter_supported: false }),
    };
    const configure = (auth: oidc.ClientAuth) => {
      const configuration = new oidc.Configuration(metadata, clientId, clientSecret, auth);
      configuration[oidc.customFetch] = fetchThroughAgent;
      configuration.timeout = REQUEST_TIMEOUT_SECONDS;
      if (insecureHttp) oidc.allowInsecureRequests(configuration);
      return configuration;
    };
    return new IdentityProvider(sso, discoveredMetadata.issuer, configure(oidc.ClientSecretBasic(clientSecret)), configure(oidc.ClientSecretPost(clientSecret)));
  }

  static newChecks(): SignInChecks {
    return { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
  }

  async authorizationUrl(redirectUri: string, checks: SignInChecks): Promise<URL> {
    return oidc.buildAuthorizationUrl(this.#basic, {
      redirect_uri: redirectUri,
      scope: this.#sso.scopes.join(' '),
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
    });
  }

  get clientId(): string {
    return this.#basic.clientMetadata().client_id;
  }

  /** `end_session_endpoint`, when the provider offers one. */
  get endSessionEndpoint(): string | undefined {
    return this.#basic.serverMetadata().end_session_endpoint;
  }

  /**
   * Exchanges the code of `callback` (the redirect URI with the callback's query) and verifies the ID token:
   * signature from the JWKS, `iss`, `aud`, `exp` and `nonce`; then reads the groups.
   */
  async complete(callback: URL, checks: SignInChecks): Promise<SignedInPerson> {
    const response = new URL(callback);
    if (this.#sso.issuerAlias !== undefined) {
      const iss = response.searchParams.get('iss');
      if (iss !== null && iss !== this.#discoveredIssuer) throw new SignInFailure(401, 'the authorization response names another issuer');
      response.searchParams.delete('iss');
    }
    const grant = (configuration: oidc.Configuration) =>
      oidc.authorizationCodeGrant(configuration, new URL(response), {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      });
    let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
    try {
      if (this.#useBody) {
        tokens = await grant(this.#post);
      } else {
        try {
          tokens = await grant(this.#basic);
        } catch (error) {
          if (!(error instanceof oidc.ResponseBodyError && error.error === 'invalid_client')) throw error;
          tokens = await grant(this.#post);
          this.#useBody = true;
        }
      }
    } catch (error) {
      throw new SignInFailure(401, signInError(error));
    }
    const claims = tokens.claims();
    if (claims === undefined) throw new SignInFailure(401, 'the identity provider returned no ID token');
    const groups = this.#sso.userInfoPath === undefined ? groupsFromClaims(claims, this.#sso.customGroupClaimName) : await this.#userInfoGroups(tokens.access_token);
    return { sub: claims.sub, claims, groups };
  }

  /** Argo's `userInfoPath`: `GET <issuer><path>` with the access token; its `groups` replace the ID token's. */
  async #userInfoGroups(accessToken: string): Promise<string[]> {
    const url = new URL(`${this.#sso.issuer.replace(/\/$/, '')}${this.#sso.userInfoPath}`);
    try {
      const response = await oidc.fetchProtectedResource(this.#basic, accessToken, url, 'GET');
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = (await response.json()) as { groups?: unknown };
      return stringList(body.groups);
    } catch (error) {
      throw new SignInFailure(401, `cannot read groups from ${url.pathname}: ${describe(error)}`);
    }
  }
}

/** `groups`, or the custom claim instead (absent or not a list of strings: no groups, as Argo since v3.4.9). */
function groupsFromClaims(claims: Readonly<Record<string, unknown>>, customClaim: string | undefined): string[] {
  return stringList(Object.hasOwn(claims, customClaim ?? 'groups') ? claims[customClaim ?? 'groups'] : undefined);
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : [];
}

/** The provider's error code, or openid-client's check that failed (e.g. `unexpected JWT "aud" (audience) claim value`). */
function signInError(error: unknown): string {
  if (error instanceof oidc.ResponseBodyError) return `the identity provider refused the code: ${error.error}`;
  if (error instanceof oidc.AuthorizationResponseError) return `the identity provider refused the sign-in: ${error.error}`;
  return `ID token or code exchange failed: ${describe(error)}`;
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${message}${cause}`;
}

/** One HTTP client for every call to the provider, with `rootCA` added to the system's authorities. */
function providerFetch(sso: SsoConfig): typeof fetch {
  const agent = new Agent({
    connect: {
      ca: sso.rootCA === undefined ? undefined : [...rootCertificates, sso.rootCA],
      rejectUnauthorized: !sso.insecureSkipVerify,
    },
  });
  return ((input: string | URL, init?: RequestInit) =>
    undiciFetch(input, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent })) as unknown as typeof fetch;
}
