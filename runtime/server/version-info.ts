import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Argo's `GET /api/v1/version` shape, reduced to what argosync knows. */
export interface VersionInfo {
  readonly version: string;
  readonly buildDate?: string;
  readonly gitCommit?: string;
  /** `<os>/<arch>`, as Go's `runtime.GOOS/GOARCH`. */
  readonly platform: string;
}

/**
 * Reads the version from argosync's package.json, found by walking up from this file (the same code runs
 * from `runtime/` under tsx and from `dist/runtime/` when built). A build may stamp the commit and date
 * through `ARGOSYNC_GIT_COMMIT` and `ARGOSYNC_BUILD_DATE`.
 */
export async function readVersionInfo(env: NodeJS.ProcessEnv = process.env): Promise<VersionInfo> {
  const version = await findPackageVersion(dirname(fileURLToPath(import.meta.url)));
  return {
    version,
    ...(env.ARGOSYNC_BUILD_DATE ? { buildDate: env.ARGOSYNC_BUILD_DATE } : {}),
    ...(env.ARGOSYNC_GIT_COMMIT ? { gitCommit: env.ARGOSYNC_GIT_COMMIT } : {}),
    platform: `${process.platform}/${process.arch}`,
  };
}

async function findPackageVersion(start: string): Promise<string> {
  for (let directory = start; ; directory = dirname(directory)) {
    try {
      const manifest = JSON.parse(await readFile(join(directory, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'argosync' && manifest.version) return manifest.version;
    } catch {
      // no readable package.json here: keep walking up
    }
    if (dirname(directory) === directory) throw new Error(`cannot find argosync's package.json above ${start}`);
  }
}
