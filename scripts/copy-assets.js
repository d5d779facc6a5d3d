// tsc compiles the TypeScript; the UI's static files are copied beside the compiled server.
import { cpSync } from 'node:fs';

cpSync('runtime/server/ui', 'dist/runtime/server/ui', { recursive: true });
