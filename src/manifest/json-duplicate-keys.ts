// JSON.parse keeps the last of two equal keys in one object without a word. In a reviewed manifest
// that hides a change: a reviewer reads the first "image", the controller runs the second. YAML's
// parser refuses duplicate keys; this does the same for JSON text that JSON.parse already accepted.

export class DuplicateKeyError extends SyntaxError {
  constructor(
    readonly key: string,
    readonly line: number,
  ) {
    super(`duplicate key ${JSON.stringify(key)} at line ${line}`);
  }
}

/**
 * Throws DuplicateKeyError for the first object that names a key twice. `text` must be valid JSON
 * (one pass over it; a string is decoded only when it is a key).
 */
export function assertNoDuplicateKeys(text: string): void {
  const objects: (Set<string> | null)[] = []; // null: an array
  let line = 1;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    else if (c === '{') {
      objects.push(new Set());
      expectKey = true;
    } else if (c === '[') objects.push(null);
    else if (c === '}' || c === ']') objects.pop();
    else if (c === ',') expectKey = objects[objects.length - 1] instanceof Set;
    else if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        const keys = objects[objects.length - 1]!;
        if (keys.has(key)) throw new DuplicateKeyError(key, line);
        keys.add(key);
        expectKey = false;
      }
      i = end;
    }
  }
}
