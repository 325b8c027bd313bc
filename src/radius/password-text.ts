// RADIUS carries passwords and names as bytes with no charset; the directory compares Unicode text.
import { TextDecoder } from 'node:util';

// ignoreBOM keeps a leading EF BB BF as U+FEFF: the bytes the user typed are the text compared, nothing dropped.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * UTF-8 when the bytes are valid UTF-8, otherwise Latin-1 (each byte one code point), because Windows clients
 * and older NASes send cp1252/Latin-1, non-ASCII Latin-1 text is almost never valid UTF-8, and a lossy decode
 * (U+FFFD) would make such a password impossible to match.
 */
export function passwordText(bytes: Buffer): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}
