// W2 messages (JS reference, actor@2.3.1): an effect sends M integers; a
// map around it counts them. Figure: ns per message.
// Usage: node w2.mjs [M] (from a folder where actor is installed)
import { Task, arg, now, report } from "./common.mjs"
import { map } from "./map.mjs"

const M = arg(1000000)

function* producer(m) {
  for (let i = 1; i <= m; i++) yield* Task.send(i)
}

let count = 0
const counter = _ => { count++ } // returns undefined: dropped

const t0 = now()
await Task.fork(map(producer(M), counter))
const ms = now() - t0
if (count !== M) throw new Error("lost messages")
report("W2", M, { ns_per_op: (ms * 1e6) / M })
