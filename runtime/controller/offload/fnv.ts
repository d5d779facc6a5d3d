const OFFSET_BASIS = 0x811c9dc5;
const PRIME = 0x01000193;

/** FNV-1 (multiply, then xor) 32-bit over the UTF-8 bytes, as Go's `hash/fnv.New32` computes it. */
export function fnv1(text: string): number {
  let hash = OFFSET_BASIS;
  for (const byte of Buffer.from(text, 'utf8')) hash = (Math.imul(hash, PRIME) ^ byte) >>> 0;
  return hash;
}

/** Argo's offload version of a nodes JSON: `fnv:<decimal hash>` (`null` → `fnv:784127654`). */
export function offloadVersion(nodesJson: string): string {
  return `fnv:${fnv1(nodesJson)}`;
}
