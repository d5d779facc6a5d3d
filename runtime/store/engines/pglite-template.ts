import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTreeOwnerOnly } from '../../home-permissions.js';

// A new home's embedded store starts as a copy of a data directory PGlite initialised once (at build time), because
// running initdb takes most of a new home's start-up (about 4 s on a quiet 2-core machine) and its memory peak.

/** The installed PGlite's version: a template is only valid for the PGlite that wrote it. */
function pgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const manifest = join(dirname(entry), '..', 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** `dist/pglite-template-<version>.tar.gz`, found the same from the sources (tests) and from the build. */
export function pgliteTemplatePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = join(here, '..', '..', '..');
  const dist = existsSync(join(root, 'runtime', 'cli.js')) ? root : join(root, 'dist');
  return join(dist, `pglite-template-${pgliteVersion()}.tar.gz`);
}

/** Fills an empty data directory from the template, owner-only; false when there is no template (PGlite runs initdb). */
export async function copyPgliteTemplate(dataDir: string, template = pgliteTemplatePath()): Promise<boolean> {
  if (!existsSync(template)) return false;
  const { extract } = await import('tar');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await extract({ file: template, cwd: dataDir });
  return true;
}

/** The template as PGlite loads it into an in-memory store (`loadDataDir`), when there is one. */
export async function pgliteTemplateBlob(template = pgliteTemplatePath()): Promise<Blob | undefined> {
  return existsSync(template) ? new Blob([await readFile(template)]) : undefined;
}

/** Writes the template for the installed PGlite unless it exists; `initialise` runs initdb in the directory it is given. */
export async function ensurePgliteTemplate(initialise: (dataDir: string) => Promise<void>, template = pgliteTemplatePath()): Promise<string> {
  if (existsSync(template)) return template;
  const work = await mkdtemp(join(tmpdir(), 'argosync-pglite-template-'));
  const partial = `${template}.${process.pid}.partial`;
  try {
    const dataDir = join(work, 'data');
    await initialise(dataDir);
    // Entries keep these modes when extracted: a home is owner-only (SPEC §7.6).
    await makeTreeOwnerOnly(dataDir);
    const { create } = await import('tar');
    await mkdir(dirname(template), { recursive: true });
    await create({ file: partial, cwd: dataDir, gzip: { level: 9 }, portable: true }, ['.']);
    // Renamed into place whole, so a parallel build or test run never reads half a template.
    await rename(partial, template);
  } finally {
    await rm(work, { recursive: true, force: true });
    await rm(partial, { force: true });
  }
  return template;
}
