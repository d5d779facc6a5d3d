#!/usr/bin/env node
// pulumi-resource-argosync: the engine starts this with its own address as argument and reads the port
// from the first line of stdout; nothing else may go to stdout. (No top-level await: `npm run package`
// bundles this file as CommonJS.)
import { serveProvider } from './provider-server.js';

serveProvider(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`pulumi-resource-argosync: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
