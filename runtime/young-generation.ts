import { setFlagsFromString } from 'node:v8';

/** V8's default `--semi-space-growth-factor`. */
const DEFAULT_GROWTH_FACTOR = 2;

/**
 * Runs `start` with V8's young generation held at its initial size. Start-up allocates fast enough for V8 to grow
 * the young generation to its maximum (2 × 16 MB), which it keeps, mostly empty, while the runtime then idles:
 * about 20 MB of idle RSS (issue 11). Afterwards it grows again when a load that needs it (a burst of API
 * requests) comes. V8 reads the factor whenever it considers growing, so setting it around start-up is enough.
 */
export async function withYoungGenerationHeld<T>(start: () => Promise<T>): Promise<T> {
  setFlagsFromString('--semi-space-growth-factor=1');
  try {
    return await start();
  } finally {
    setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH_FACTOR}`);
  }
}
