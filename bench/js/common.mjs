// bench/js/common.mjs: what the JavaScript workload scripts share.
//
// The reference is imported statically as "actor": bench/run installs
// actor@2.3.1 into a temporary folder and copies these scripts there to run
// them. (ESM ignores NODE_PATH, and a dynamic import() cannot be used: the
// module exports a function named `then`, so its namespace is a thenable
// and awaiting it never settles.)
import * as Task from "actor"
export { Task }

/** N from argv, or the default. */
export const arg = def => {
  const n = process.argv[2] === undefined ? def : Number(process.argv[2])
  if (!Number.isInteger(n) || n < 1) throw new Error("usage: node script.mjs [N]")
  return n
}

/** Milliseconds on the monotonic high-resolution clock. */
export const now = () => Number(process.hrtime.bigint()) / 1e6

/** The W3 delays, 0..99 ms: MINSTD with seed 42, as bench/lib/bench.lua. */
export const delays = n => {
  const d = new Array(n)
  let x = 42
  for (let i = 0; i < n; i++) {
    x = (x * 48271) % 2147483647
    d[i] = x % 100
  }
  return d
}

/** V8 heap in bytes after full collections (node --expose-gc). */
export const heapBytes = () => {
  globalThis.gc()
  globalThis.gc()
  return process.memoryUsage().heapUsed
}

export const rssKB = () => process.memoryUsage().rss / 1024

/** Prints "W1 impl=js n=100000 k=v ... peak_rss_kb=..." and exits. */
export const report = (workload, n, figures) => {
  const out = [workload, "impl=js", `n=${n}`]
  for (const [k, v] of Object.entries(figures)) {
    out.push(`${k}=${Number.isInteger(v) ? v : v.toFixed(1)}`)
  }
  out.push(`peak_rss_kb=${process.resourceUsage().maxRSS}`)
  console.log(out.join(" "))
  process.exit(0)
}
