// The @argosync/pulumi package's package.json in dist/sdk/nodejs: sdk/nodejs/package.json with argosync's version
// (package.json is the one version source), plus the SDK's README.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const manifest = JSON.parse(readFileSync('sdk/nodejs/package.json', 'utf8'));
mkdirSync('dist/sdk/nodejs', { recursive: true });
writeFileSync('dist/sdk/nodejs/package.json', `${JSON.stringify({ ...manifest, version, pulumi: { ...manifest.pulumi, version } }, null, 2)}\n`);
copyFileSync('sdk/nodejs/README.md', 'dist/sdk/nodejs/README.md');
