// RITA's regularity score (activecm/rita v5, analysis/beacons.go) for one series of values — the
// intervals between connections, or the bytes per connection:
//   Bowley skew = (Q1 + Q3 − 2·Q2) / (Q3 − Q1), taken as 0 when Q3 − Q1 < `minIqr` or the median
//   equals a quartile; skewScore = 1 − |skew|
//   MAD about the median; madScore = (median − MAD) / median, clamped to [0, 1]
//   score = (skewScore + madScore) / 2
// Jitter moves the quartiles together and raises MAD only by the jitter's size, so a beacon every
// 60 s ± 10 % still scores ≈ 0.9. Works in place on a scratch array (sorted here).

export function quantileSorted(v: Float64Array, n: number, q: number): number {
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

/** `v[0..n)` is sorted in place; `scratch` must hold n values. */
export function regularityScore(v: Float64Array, n: number, scratch: Float64Array, minIqr: number, madDefault: number): number {
  if (n < 3) return 0;
  const sorted = v.subarray(0, n).sort();
  const q1 = quantileSorted(sorted, n, 0.25);
  const q2 = quantileSorted(sorted, n, 0.5);
  const q3 = quantileSorted(sorted, n, 0.75);
  const iqr = q3 - q1;
  let skew = 0;
  if (iqr >= minIqr && q2 !== q1 && q2 !== q3) skew = (q1 + q3 - 2 * q2) / iqr;
  const skewScore = 1 - Math.min(1, Math.abs(skew));
  for (let i = 0; i < n; i++) scratch[i] = Math.abs(sorted[i] - q2);
  const devs = scratch.subarray(0, n).sort();
  const mad = quantileSorted(devs, n, 0.5);
  const madScore = q2 >= 1 ? Math.max(0, Math.min(1, (q2 - mad) / q2)) : madDefault;
  return (skewScore + madScore) / 2;
}
