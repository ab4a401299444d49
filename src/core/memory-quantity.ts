// Memory quantities as manifests write them ("512Mi", "1G", "300000"): binary suffixes are powers
// of 1024, decimal ones powers of 1000 (k, m and g included: "m" is mega here, not milli).

const MULTIPLIERS: Record<string, number> = {
  '': 1,
  k: 1e3, K: 1e3, m: 1e6, M: 1e6, g: 1e9, G: 1e9,
  Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3,
};

/** Docker refuses a memory limit below 6 MiB; a smaller one is an error, not "no limit". */
export const MIN_MEMORY_BYTES = 6 * 1024 ** 2;
/** Past this the count of bytes is no longer exact. */
export const MAX_MEMORY_BYTES = Number.MAX_SAFE_INTEGER;

export function parseMemoryBytes(quantity: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|K|M|G|k|m|g)?$/.exec(quantity);
  if (!match) throw new Error(`not a memory quantity: ${JSON.stringify(quantity)}`);
  return Math.round(Number(match[1]) * (MULTIPLIERS[match[2] ?? ''] ?? 1));
}
