// W5 idle memory (JS reference, actor@2.3.1): N tasks suspended forever.
// Figures: bytes per task on the V8 heap after a full GC, and in RSS. The
// array that keeps the handles is allocated before the baseline, so it is
// not counted. Usage: node --expose-gc w5.mjs [N] (from a folder where actor is installed)
import { Task, arg, heapBytes, rssKB, report } from "./common.mjs"

const N = arg(100000)

function* sleeper() {
  yield* Task.suspend()
}

function* main(n) {
  const forks = []
  for (let i = 1; i <= n; i++) forks[i - 1] = false
  const heap0 = heapBytes(), rss0 = rssKB()
  for (let i = 1; i <= n; i++) forks[i - 1] = yield* Task.fork(sleeper())
  yield* Task.wait() // every fork runs up to its suspend
  const heap1 = heapBytes(), rss1 = rssKB()
  if (forks[n - 1].status !== "active") throw new Error("not all suspended")
  return [(heap1 - heap0) / n, ((rss1 - rss0) * 1024) / n, forks]
}

const [heap_b, rss_b] = await Task.fork(main(N))
report("W5", N, { heap_b_per_task: heap_b, rss_b_per_task: rss_b })
