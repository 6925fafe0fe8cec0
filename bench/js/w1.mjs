// W1 fork+join (JS reference, actor@2.3.1): a task forks N tasks that each
// return their index at once, then joins them in order and checks the sum.
// Figure: ns per fork+join. Usage: node bench/js/w1.mjs [N]
import { Task, arg, now, report } from "./common.mjs"

const N = arg(100000)

function* child(i) { return i }

function* main(n) {
  const t0 = now()
  const forks = []
  for (let i = 1; i <= n; i++) forks[i - 1] = yield* Task.fork(child(i))
  let sum = 0
  for (let i = 1; i <= n; i++) sum += yield* Task.join(forks[i - 1])
  return [sum, now() - t0]
}

const [sum, ms] = await Task.fork(main(N))
if (sum !== (N * (N + 1)) / 2) throw new Error("wrong sum")
report("W1", N, { ns_per_op: (ms * 1e6) / N })
