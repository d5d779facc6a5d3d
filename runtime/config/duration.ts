const GO_UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign, as Go accepts
  'μs': 1e-3, // U+03BC Greek mu, as Go accepts
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const GO_DURATION = /^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h)(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))*$/;
const GO_DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/**
 * Parses a non-negative Go `time.ParseDuration` string (`300ms`, `1h30m`, `0`) into milliseconds,
 * or returns undefined when the text is not one.
 */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (!GO_DURATION.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(GO_DURATION_PART)) {
    ms += Number(amount) * GO_UNIT_MS[unit as string]!;
  }
  return ms;
}

const ARGO_TTL_SHORT = /^(\d+)([dhms])$/;
const ARGO_TTL_UNIT_MS: Readonly<Record<string, number>> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };

/**
 * Parses an Argo `TTL` (`archiveTTL`, `connMaxLifetime`) into milliseconds; '' is 0 (forever).
 * Argo itself only takes `<integer><d|h|m|s>`: every Go duration also ends in one of those letters, so
 * its suffix checks reject `1h30m`. SPEC §3 promises Go durations too, so they are accepted here.
 */
export function parseArgoTtl(text: string): number | undefined {
  if (text === '') return 0;
  const short = ARGO_TTL_SHORT.exec(text);
  if (short) return Number(short[1]) * ARGO_TTL_UNIT_MS[short[2] as string]!;
  return parseGoDuration(text);
}
