import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json is), from wherever this module runs: `provider/` or `dist/provider/`. */
function packageRoot(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(directory, 'package.json'))) {
    const parent = dirname(directory);
    if (parent === directory) throw new Error('cannot find the argosync package root');
    directory = parent;
  }
  return directory;
}

export const PACKAGE_ROOT = packageRoot();
export const SCHEMA_TEXT = readFileSync(join(PACKAGE_ROOT, 'schema.json'), 'utf8');
export const PACKAGE_VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
