// Build step: the PGlite data directory new homes start from (see runtime/store/engines/pglite-template.ts).
import { writePgliteTemplate } from '../dist/runtime/store/engines/pglite.js';

await writePgliteTemplate();
