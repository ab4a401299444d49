// Text that came from a manifest, a file name or a container, made safe to print on one line.
// Whoever writes a manifest chooses its keys, values and file names: a newline there must not forge
// a second error line, an ESC must not drive the reader's terminal, a megabyte must not flood a log.
// Every message that quotes such input goes through `quote` (values) or `printable` (finished text).

/** The longest quoted value in a message: enough to recognise it, never a flood. */
export const MAX_QUOTED_CHARS = 60;

// C0 controls, DEL, C1 controls, line/paragraph separators and the bidi controls that reorder
// what a terminal shows (CVE-2021-42574 "trojan source").
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every unprintable character written as a JSON-style escape (\n, \r, \t, \u001b). */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (ch) => {
    const json = JSON.stringify(ch).slice(1, -1);
    return json.length > 1 ? json : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** `text` cut to `max` characters, marked with "..." when cut. */
export function cut(text: string, max = MAX_QUOTED_CHARS): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/**
 * A value quoted for a message: JSON-like, printable, at most about `max` characters. Works in time
 * proportional to `max`, not to the value: a shared-reference (alias) structure is never expanded.
 * NaN and the infinities are named, not printed as JSON's `null`.
 */
export function quote(value: unknown, max = MAX_QUOTED_CHARS): string {
  const out: string[] = [];
  let length = 0;
  const budget = max + 1;
  const emit = (text: string): boolean => {
    out.push(text);
    length += text.length;
    return length <= budget;
  };
  const visit = (v: unknown, depth: number): boolean => {
    if (typeof v === 'string') return emit(JSON.stringify(v.length > budget ? v.slice(0, budget) : v));
    if (typeof v === 'number') return emit(Number.isFinite(v) ? JSON.stringify(v) : String(v));
    if (v === null || typeof v === 'boolean') return emit(String(v));
    if (typeof v !== 'object') return emit(String(v));
    if (depth > 8) return emit('...');
    if (Array.isArray(v)) {
      if (!emit('[')) return false;
      for (let i = 0; i < v.length; i++) {
        if ((i > 0 && !emit(',')) || !visit(v[i], depth + 1)) return false;
      }
      return emit(']');
    }
    if (!emit('{')) return false;
    let first = true;
    for (const key in v) {
      if (!Object.prototype.hasOwnProperty.call(v, key)) continue;
      if ((!first && !emit(',')) || !visit(key, depth + 1) || !emit(':')) return false;
      if (!visit((v as Record<string, unknown>)[key], depth + 1)) return false;
      first = false;
    }
    return emit('}');
  };
  visit(value, 0);
  return printable(cut(out.join(''), max));
}
