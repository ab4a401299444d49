// Text from outside the controller (the runtime's error messages) may quote what a container was
// given: runc echoes an env entry it refuses, quoted the Go way. Before such text becomes an event,
// a condition or a log line, every value the container was given is cut out of it, as written and
// as Go or JSON quote it.

export const REDACTED_VALUE = '(redacted)';
/** Shorter values are left in: cutting "1" or "on" out of a message would garble it and hide nothing. */
export const MIN_REDACTED_LENGTH = 4;

/** `text` with every value of `values` (at least MIN_REDACTED_LENGTH long) replaced by REDACTED_VALUE. */
export function redactValues(text: string, values: Iterable<string>): string {
  const forms = new Set<string>();
  for (const value of values) {
    if (value.length < MIN_REDACTED_LENGTH) continue;
    const json = JSON.stringify(value).slice(1, -1);
    forms.add(value).add(json).add(json.replace(/\\u00([0-9a-f]{2})/g, '\\x$1'));
  }
  // Longest first: a value that holds another is cut whole.
  let out = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) out = out.replaceAll(form, REDACTED_VALUE);
  return out;
}
