#!/usr/bin/env node
// pulumi-resource-argosync: the engine starts this with its own address as argument and reads the port
// from the first line of stdout; nothing else may go to stdout.
import { serveProvider } from './provider-server.js';

await serveProvider(process.argv.slice(2));
