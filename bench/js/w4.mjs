// W4 ping-pong (JS reference, actor@2.3.1): two tasks hand control to each
// other N times (N/2 round trips) with resume + suspend.
// Figure: ns per switch. Usage: node w4.mjs [N] (from a folder where actor is installed)
import { Task, arg, now, report } from "./common.mjs"

const N = arg(1000000)
const rounds = Math.floor(N / 2)

let ping, pong

function* pongBody(r) {
  for (let i = 1; i <= r; i++) {
    yield* Task.suspend()
    Task.resume(ping)
  }
}

function* pingBody(r) {
  for (let i = 1; i <= r; i++) {
    Task.resume(pong)
    yield* Task.suspend()
  }
}

function* main(r) {
  pong = yield* Task.fork(pongBody(r))
  yield* Task.wait() // pong runs up to its first suspend
  ping = yield* Task.fork(pingBody(r))
  const t0 = now()
  yield* Task.join(ping)
  yield* Task.join(pong)
  return now() - t0
}

const ms = await Task.fork(main(rounds))
report("W4", N, { ns_per_op: (ms * 1e6) / (2 * rounds) })
