/** True when `text` holds a NUL or another C0 control character, or DEL: never valid in a name, key or row value (SPEC §7.6). */
export function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
