/** SHA-256 (hex) through WebCrypto: `globalThis.crypto.subtle` exists in Node 20 and in browsers alike. */
export async function sha256Hex(text: string): Promise<string> {
  const bytes = new TextEncoder().encode(text);
  const hash = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  let out = '';
  for (const b of hash) out += b.toString(16).padStart(2, '0');
  return out;
}
