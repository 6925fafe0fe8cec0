// actor@2.3.1 has no map. This is the closest equivalent, built the way the
// library builds its own message transformer (the Tagger behind `tag`):
// drive the effect's generator, pass the control instructions (current,
// suspend) through to the scheduler, and hand each message to fn, passing
// on fn(m) unless it is undefined. The effect runs inline in the mapping
// task, as `tag` runs it.
import { Task } from "./common.mjs"

export function* map(effect, fn) {
  const controller = effect[Symbol.iterator]()
  let state = controller.next()
  while (!state.done) {
    const instruction = state.value
    if (Task.isMessage(instruction)) {
      const m = fn(instruction)
      if (m !== undefined) yield m
      state = controller.next()
    } else {
      state = controller.next(yield instruction)
    }
  }
  return state.value
}
