import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const RUNTIME = fileURLToPath(new URL('../../runtime/runtime-process.ts', import.meta.url));
// A resolve hook that prints every bare package the import graph asks for, in a process of its own.
const HOOK = `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (!specifier.startsWith('.') && !specifier.startsWith('node:') && !specifier.startsWith('file:') && !specifier.startsWith('data:')) console.log('package ' + specifier);
  return next(specifier, context);
}`)}`;
const REGISTER = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(HOOK)});`)}`;

describe('modules the runtime loads when it starts', () => {
  it('leaves the Kubernetes client, certificate generation and the database drivers to when they are used', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--import', REGISTER, '-e', `await import(${JSON.stringify(RUNTIME)})`], { timeout: 60_000 });
    const packages = new Set(stdout.split('\n').filter((line) => line.startsWith('package ')).map((line) => line.slice('package '.length)));
    expect(packages).toContain('fastify');
    for (const lazy of ['@kubernetes/client-node', 'selfsigned', 'mysql2', 'pg', '@electric-sql/pglite']) expect(packages).not.toContain(lazy);
  }, 70_000);
});
