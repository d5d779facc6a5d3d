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
/** package.json's version: the one source of the plugin's version (GetPluginInfo) and the schema's. */
export const PACKAGE_VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** schema.json, with the package version. */
export const SCHEMA_TEXT = JSON.stringify({ ...(JSON.parse(readFileSync(join(PACKAGE_ROOT, 'schema.json'), 'utf8')) as object), version: PACKAGE_VERSION });
