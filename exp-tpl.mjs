import { PGlite } from '@electric-sql/pglite';
import { readFileSync, writeFileSync } from 'node:fs';
const [action, dir] = process.argv.slice(2);
const startParams = [...PGlite.defaultStartParams, '-c', 'shared_buffers=8MB'];
const t = performance.now();
if (action === 'make') {
  const db = await PGlite.create(undefined, { startParams });
  await db.query('select 1');
  const blob = await db.dumpDataDir('gzip');
  writeFileSync('/tmp/tpl.tar.gz', Buffer.from(await blob.arrayBuffer()));
  console.log('made', (performance.now() - t).toFixed(0), 'ms', blob.size);
  await db.close();
} else {
  const db = await PGlite.create(dir, { startParams, loadDataDir: new Blob([readFileSync('/tmp/tpl.tar.gz')]) });
  await db.query('select 1');
  const t1 = performance.now() - t;
  await new Promise(r => setTimeout(r, 1000)); global.gc?.();
  console.log('loaded', t1.toFixed(0), 'ms rss', (process.memoryUsage().rss/1048576).toFixed(0));
  await db.close();
}
