import { chmod, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const OWNER_ONLY_FILE = 0o600;
const OWNER_ONLY_DIRECTORY = 0o700;

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/**
 * Creates the home owner-only (SPEC §7.6), or tightens an existing one that group or others can enter, saying
 * so: the embedded database, the certificate's key and the tokens' policy live there.
 */
export async function ensurePrivateHome(home: string, say: (line: string) => void): Promise<void> {
  await mkdir(home, { recursive: true, mode: OWNER_ONLY_DIRECTORY });
  const mode = (await stat(home)).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  await chmod(home, mode & OWNER_ONLY_DIRECTORY);
  say(`tightened the permissions of ${home} from ${octal(mode)} to ${octal(mode & OWNER_ONLY_DIRECTORY)}: only its owner may read the runtime's data`);
}

/**
 * Makes every file under `directory` 0600 and every folder 0700. PGlite writes its files 0666 whatever the
 * umask, so the embedded database is tightened after it opens; symbolic links are left alone.
 */
export async function makeTreeOwnerOnly(directory: string): Promise<void> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  await Promise.all(
    entries.map(async (entry) => {
      const path = join(entry.parentPath, entry.name);
      if (entry.isDirectory()) await chmod(path, OWNER_ONLY_DIRECTORY);
      else if (entry.isFile() && ((await lstat(path)).mode & 0o077) !== 0) await chmod(path, OWNER_ONLY_FILE);
    }),
  );
  await chmod(directory, OWNER_ONLY_DIRECTORY);
}
