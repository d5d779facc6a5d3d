import { request, type Agent } from 'undici';

/** One HTTP response of a sign-in, with what a browser would keep. */
export interface Hop {
  readonly status: number;
  readonly location: string | undefined;
  readonly setCookies: readonly string[];
  readonly body: string;
}

/** A browser's cookies, per origin, without paths (enough for one sign-in at a time). */
export class CookieJar {
  readonly #byOrigin = new Map<string, Map<string, string>>();

  store(url: string, setCookies: readonly string[]): void {
    const origin = new URL(url).origin;
    const cookies = this.#byOrigin.get(origin) ?? new Map<string, string>();
    for (const line of setCookies) {
      const [pair = ''] = line.split(';');
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      const expired = /expires=thu, 01 jan 1970/i.test(line) || value === '' || value === '""';
      if (expired) cookies.delete(name);
      else cookies.set(name, value);
    }
    this.#byOrigin.set(origin, cookies);
  }

  get(url: string, name: string): string | undefined {
    return this.#byOrigin.get(new URL(url).origin)?.get(name);
  }

  header(url: string): string | undefined {
    const cookies = this.#byOrigin.get(new URL(url).origin);
    if (cookies === undefined || cookies.size === 0) return undefined;
    return [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** Sends one request as a browser would (cookies from the jar, no redirect followed) and keeps its cookies. */
export async function hop(jar: CookieJar, url: string, dispatcher: Agent, init: { method?: 'GET' | 'POST'; form?: Record<string, string> } = {}): Promise<Hop> {
  const cookie = jar.header(url);
  const response = await request(url, {
    method: init.method ?? 'GET',
    dispatcher,
    headers: {
      ...(cookie === undefined ? {} : { cookie }),
      ...(init.form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
    },
    ...(init.form === undefined ? {} : { body: new URLSearchParams(init.form).toString() }),
  });
  const raw = response.headers['set-cookie'];
  const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  jar.store(url, setCookies);
  const location = response.headers.location;
  return {
    status: response.statusCode,
    location: typeof location === 'string' ? new URL(location, url).href : undefined,
    setCookies,
    body: await response.body.text(),
  };
}

export interface SignInRun {
  /** `/oauth2/redirect`'s answer. */
  readonly start: Hop;
  /** The provider's redirect back to the callback (`?code=…&state=…`). */
  readonly callbackUrl: string;
}

/**
 * Runs a sign-in up to the provider's redirect to argosync's callback: `/oauth2/redirect`, the provider's
 * authorization endpoint, its login form (login `login`, any password), and the resumed authorization.
 */
export async function signInUntilCallback(jar: CookieJar, redirectUrl: string, login: string, agents: { argosync: Agent; provider: Agent }): Promise<SignInRun> {
  const start = await hop(jar, redirectUrl, agents.argosync);
  if (start.status !== 302 || start.location === undefined) throw new Error(`/oauth2/redirect answered ${start.status}: ${start.body}`);
  let next = await hop(jar, start.location, agents.provider);
  for (let step = 0; step < 6; step++) {
    if (next.location === undefined) throw new Error(`the provider answered ${next.status}: ${next.body}`);
    const target = new URL(next.location);
    if (target.origin === new URL(redirectUrl).origin) return { start, callbackUrl: next.location };
    if (/^\/interaction\//.test(target.pathname)) {
      await hop(jar, next.location, agents.provider);
      next = await hop(jar, next.location, agents.provider, { method: 'POST', form: { login, password: 'any' } });
    } else {
      next = await hop(jar, next.location, agents.provider);
    }
  }
  throw new Error('the provider never redirected back');
}
