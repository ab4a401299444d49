// Fixed log-spaced latency buckets: a percentile from counts per bucket, with a known relative
// error, in constant memory whatever the traffic.
//
// Bucket 0 holds [0, 1 ms) (nginx logs times in whole ms, so it is "0 ms"); bucket i >= 1 holds
// [G^(i-1), G^i) ms with G = 1.05, up to 120 s; the last bucket also takes anything slower.
// A percentile reports its bucket's geometric middle: within ±2.5 % of any value in the bucket.

export const LATENCY_GROWTH = 1.05;
export const LATENCY_MAX_MS = 120_000;
const LOG_GROWTH = Math.log(LATENCY_GROWTH);
/** Number of buckets (242). */
export const LATENCY_BUCKETS = Math.ceil(Math.log(LATENCY_MAX_MS) / LOG_GROWTH) + 2;

export function latencyBucket(ms: number): number {
  if (!(ms >= 1)) return 0; // also NaN and negatives
  const i = Math.floor(Math.log(ms) / LOG_GROWTH) + 1;
  return i < LATENCY_BUCKETS ? i : LATENCY_BUCKETS - 1;
}

/** The value reported for a bucket: its geometric middle (0.5 ms for bucket 0). */
export function latencyBucketValue(bucket: number): number {
  return bucket <= 0 ? 0.5 : Math.pow(LATENCY_GROWTH, bucket - 0.5);
}

/**
 * Nearest-rank percentile `q` (0..1) of the counts `hist[offset .. offset + LATENCY_BUCKETS)`,
 * given their total; null when total is 0.
 */
export function percentileOfBuckets(hist: ArrayLike<number>, offset: number, total: number, q: number): number | null {
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let b = 0; b < LATENCY_BUCKETS; b++) {
    seen += hist[offset + b]!;
    if (seen >= rank) return latencyBucketValue(b);
  }
  return latencyBucketValue(LATENCY_BUCKETS - 1);
}
