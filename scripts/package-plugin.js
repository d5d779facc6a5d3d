// `npm run package [outDir]`: the plugin as archives that `pulumi plugin install resource argosync <version>
// --file <archive>` installs (SPEC §9, Distribution). One esbuild bundle of provider/main.ts, needing only `node`
// on PATH, with a launcher (`.cmd` on Windows), schema.json and a package.json that carries the version.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { create } from 'tar';

const PLATFORMS = ['linux-amd64', 'linux-arm64', 'darwin-amd64', 'darwin-arm64', 'windows-amd64'];
const NAME = 'pulumi-resource-argosync';
const BUNDLE = `${NAME}.cjs`;
const NODE_NEEDED = 'Node.js 20.19 or later';

/**
 * TypeScript serves the SDK's closure serialisation (dynamic providers) and its component analyser, neither of
 * which the plugin uses: a stand-in that fails if ever used keeps 9 MB out of the bundle.
 */
const withoutTypeScript = {
  name: 'without-typescript',
  setup(builder) {
    builder.onResolve({ filter: /(^typescript$|typescript-shim$)/ }, (args) => ({ path: args.path, namespace: 'without-typescript' }));
    builder.onLoad({ filter: /.*/, namespace: 'without-typescript' }, (args) => ({
      contents: `module.exports = new Proxy({}, { get(_, name) { throw new Error(${JSON.stringify(`${args.path} is not part of the ${NAME} bundle`)} + ' (asked for ' + String(name) + ')'); } });`,
      loader: 'js',
    }));
  },
};

const LAUNCHERS = {
  unix: {
    file: NAME,
    text: `#!/bin/sh
# The argosync Pulumi provider: one JavaScript bundle, run by the node on PATH (${NODE_NEEDED}).
command -v node >/dev/null 2>&1 || { echo "${NAME}: node (${NODE_NEEDED}) must be on PATH" >&2; exit 1; }
exec node "$(dirname "$0")/${BUNDLE}" "$@"
`,
  },
  windows: {
    file: `${NAME}.cmd`,
    text: `@echo off\r\nrem The argosync Pulumi provider: one JavaScript bundle, run by the node on PATH (${NODE_NEEDED}).\r\nnode "%~dp0${BUNDLE}" %*\r\n`,
  },
};

const outDir = resolve(process.argv[2] ?? 'dist/packages');
const { version, description, license } = JSON.parse(readFileSync('package.json', 'utf8'));
const stage = mkdtempSync(join(tmpdir(), 'argosync-package-'));
try {
  await build({
    entryPoints: ['provider/main.ts'],
    outfile: join(stage, BUNDLE),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // The provider finds package.json and schema.json beside itself through import.meta.url.
    define: { 'import.meta.url': '__bundleUrl' },
    banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    plugins: [withoutTypeScript],
    legalComments: 'none',
    logLevel: 'error',
  });
  copyFileSync('schema.json', join(stage, 'schema.json'));
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify({ name: NAME, version, description, license }, null, 2)}\n`);
  for (const launcher of Object.values(LAUNCHERS)) {
    writeFileSync(join(stage, launcher.file), launcher.text);
    chmodSync(join(stage, launcher.file), 0o755);
  }
  mkdirSync(outDir, { recursive: true });
  for (const platform of PLATFORMS) {
    const launcher = platform.startsWith('windows') ? LAUNCHERS.windows : LAUNCHERS.unix;
    const archive = join(outDir, `${NAME}-v${version}-${platform}.tar.gz`);
    // node-tar (already a dependency), not the system's tar: the same archive on every machine, Windows included.
    await create({ gzip: true, file: archive, cwd: stage, portable: true }, [launcher.file, BUNDLE, 'schema.json', 'package.json']);
    console.log(archive);
  }
} finally {
  rmSync(stage, { recursive: true, force: true });
}
