import { promisify } from 'node:util';
import { brotliCompress, brotliDecompress, gunzip, gzip } from 'node:zlib';
import type { CompressionAlgorithm } from '../../config/environment-knobs.js';

const COMPRESS = { gzip: promisify(gzip), brotli: promisify(brotliCompress) } as const;
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
const GZIP_MAGIC = [0x1f, 0x8b];

/** `status.compressedNodes`: base64 of the nodes JSON compressed with `WORKFLOW_COMPRESSION_ALGORITHM`. */
export async function compressNodes(nodesJson: string, algorithm: CompressionAlgorithm): Promise<string> {
  return (await COMPRESS[algorithm](Buffer.from(nodesJson, 'utf8'))).toString('base64');
}

/** The reverse, recognising the algorithm as Argo does: zstd magic, then gzip magic, else brotli. */
export async function decompressNodes(compressed: string): Promise<string> {
  const bytes = Buffer.from(compressed, 'base64');
  const startsWith = (magic: number[]) => magic.every((byte, index) => bytes[index] === byte);
  if (startsWith(ZSTD_MAGIC)) throw new Error('status.compressedNodes is zstd-compressed, which argosync cannot read (Node.js 20 has no zstd): set WORKFLOW_COMPRESSION_ALGORITHM=gzip on the Argo controller');
  const plain = startsWith(GZIP_MAGIC) ? await promisify(gunzip)(bytes) : await promisify(brotliDecompress)(bytes);
  return plain.toString('utf8');
}
