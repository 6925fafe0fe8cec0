// W3 timers (JS reference, actor@2.3.1): N tasks each sleep a pseudo-random
// 0..99 ms (fixed seed), joined in order. Figures: wall time above the
// ideal (the longest sleep, 99 ms), that overhead per task, the process CPU
// time per task (the work, whether or not it hides inside the 99 ms), peak RSS.
// Usage: node w3.mjs [N] (from a folder where actor is installed)
import { Task, arg, now, delays as draw, report } from "./common.mjs"

const N = arg(100000)
const delays = draw(N)
let ideal = 0 // the longest sleep: 99 ms
for (let i = 1; i <= N; i++) ideal = Math.max(ideal, delays[i - 1])

function* sleeper(ms) {
  yield* Task.sleep(ms)
  return ms
}

function* main(n) {
  const t0 = now(), c0 = process.cpuUsage()
  const forks = []
  for (let i = 1; i <= n; i++) forks[i - 1] = yield* Task.fork(sleeper(delays[i - 1]))
  let sum = 0
  for (let i = 1; i <= n; i++) sum += yield* Task.join(forks[i - 1])
  const cpu = process.cpuUsage(c0)
  return [sum, now() - t0, (cpu.user + cpu.system) / 1e3]
}

const [sum, ms, cpuMs] = await Task.fork(main(N))
let expected = 0
for (let i = 1; i <= N; i++) expected += delays[i - 1]
if (sum !== expected) throw new Error("wrong sum")
report("W3", N, {
  over_ms: ms - ideal, wall_ms: ms, ideal_ms: ideal, ns_per_op: ((ms - ideal) * 1e6) / N,
  cpu_ns_per_op: (cpuMs * 1e6) / N,
})
