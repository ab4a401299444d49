// Records keyed by a name from outside (an app's name is any DNS label: "constructor" is one).
// A plain object answers such a key from its prototype, so a lookup must ask for its own entries only.

/** record[key] when the record itself holds it; undefined otherwise (never an inherited property). */
export function ownEntry<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
