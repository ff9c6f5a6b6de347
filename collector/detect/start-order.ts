// Start-time order of a batch's flows (batches come in export order, not start order), for the
// detectors whose windows slide on flow start times. Batches are usually in order already: checking
// costs one pass over the pre-pass's start times (flow-keys.ts), sorting far more.
/**
 * The first `n` flow indexes of `idx` in start order (by `firstUs[index]`), stable: `idx` itself
 * when already in order, else a sorted copy.
 */
export function indexesByStart(idx: Int32Array, n: number, firstUs: Float64Array): Int32Array {
  let sorted = true;
  for (let k = 1; k < n && sorted; k++) sorted = firstUs[idx[k]] >= firstUs[idx[k - 1]];
  if (sorted) return idx;
  // a typed array's sort need not be stable; an array's is
  return Int32Array.from(Array.from(idx.subarray(0, n)).sort((a, b) => firstUs[a] - firstUs[b]));
}
