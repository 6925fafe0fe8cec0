// W2J messages through a join (JS reference, actor@2.3.1): as W2, but the
// producer is a fork that a parent joins, so every message passes through
// the join. Figure: ns per message.
// Usage: node w2j.mjs [M] (from a folder where actor is installed)
import { Task, arg, now, report } from "./common.mjs"
import { map } from "./map.mjs"

const M = arg(1000000)

function* producer(m) {
  for (let i = 1; i <= m; i++) yield* Task.send(i)
}

function* parent(m) {
  return yield* Task.join(yield* Task.fork(producer(m)))
}

let count = 0
const counter = _ => { count++ } // returns undefined: dropped

const t0 = now()
await Task.fork(map(parent(M), counter))
const ms = now() - t0
if (count !== M) throw new Error("lost messages")
report("W2J", M, { ns_per_op: (ms * 1e6) / M })
