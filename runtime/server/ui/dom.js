// What every page shares: the API client (the token stays in this tab's sessionStorage and goes only to
// this server) and small DOM helpers.
const TOKEN_KEY = 'argosync-token';
export const api = (path) => new URL(`api/v1/${path}`, document.baseURI);
export const $ = (selector) => document.querySelector(selector);
let onSignedOut = () => undefined;

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function signIn(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * The pasted token as an `Authorization` header; without one, the browser's `authorization` cookie (an SSO
 * session) travels on its own, since the header would win over it.
 */
export function authorization() {
  return token() ? { authorization: `Bearer ${token()}` } : {};
}

/** The auth modes the server announced in the page (`--auth-mode`). */
export function authModes() {
  return (document.querySelector('meta[name="argosync-auth-modes"]')?.content ?? '').split(',');
}

/** Called when the server answers 401: the token is forgotten and the page asks for another. */
export function whenSignedOut(listener) {
  onSignedOut = listener;
}

export async function call(path, init = {}) {
  const response = await fetch(api(path), {
    ...init,
    headers: { ...authorization(), ...(init.body ? { 'content-type': 'application/json' } : {}) },
  });
  const body = await response.json();
  if (response.status === 401) {
    signOut();
    onSignedOut();
  }
  if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`);
  return body;
}

export function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

export function since(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return seconds < 120 ? `${seconds}s` : seconds < 7200 ? `${Math.round(seconds / 60)}m` : `${Math.round(seconds / 3600)}h`;
}

export function list(tag, items, describe) {
  if (items.length === 0) return element('small', 'none');
  const node = element(tag);
  for (const item of items) node.append(element('li', describe(item)));
  return node;
}

/** Shows `message` in the page's alert element, or hides it when there is none. */
export function alert(selector, message) {
  $(selector).textContent = message ?? '';
  $(selector).hidden = !message;
}
