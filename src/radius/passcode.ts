// `append` mode: the second factor rides in the password field, as `password,123456` or
// `password,push`. The split is at the last delimiter, and only when what follows is a code or
// "push": a password that contains the delimiter itself stays whole.

export interface Passcode {
  password: string;
  code?: string;
  push?: true;
}

export function splitPasscode(text: string, delimiter: string, digits: number): Passcode {
  if (delimiter === '') {
    // No delimiter: the code is the last `digits` characters.
    const match = new RegExp(`^([\\s\\S]+?)(\\d{${digits}})$`).exec(text);
    return match ? { password: match[1] ?? '', code: match[2] ?? '' } : { password: text };
  }
  const at = text.lastIndexOf(delimiter);
  if (at <= 0) return { password: text };
  const password = text.slice(0, at);
  const suffix = text.slice(at + delimiter.length);
  if (new RegExp(`^\\d{${digits}}$`).test(suffix)) return { password, code: suffix };
  if (suffix.toLowerCase() === 'push') return { password, push: true };
  return { password: text };
}
