/*
** act_heap.c: the timer heap, a binary min-heap of act_timer nodes that
** live inside their owners (no allocation per timer). The root is the
** timer due first; equal deadlines are ordered by start sequence, so
** timers armed for the same time fire in the order they were armed.
*/

#include <stdlib.h>

#include "act_int.h"

static int earlier(const act_timer *a, const act_timer *b) {
  if (a->deadline != b->deadline) return a->deadline < b->deadline;
  return a->seq < b->seq;
}

static void place(act_heap *h, size_t i, act_timer *t) {
  h->items[i] = t;
  t->index = i;
}

static void sift_up(act_heap *h, size_t i) {
  act_timer *t = h->items[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!earlier(t, h->items[parent])) break;
    place(h, i, h->items[parent]);
    i = parent;
  }
  place(h, i, t);
}

static void sift_down(act_heap *h, size_t i) {
  act_timer *t = h->items[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= h->n) break;
    if (child + 1 < h->n && earlier(h->items[child + 1], h->items[child]))
      child++;
    if (!earlier(h->items[child], t)) break;
    place(h, i, h->items[child]);
    i = child;
  }
  place(h, i, t);
}

void act_heap_init(act_heap *h) {
  h->items = NULL;
  h->n = h->cap = 0;
}

void act_heap_free(act_heap *h) {
  free(h->items);
  act_heap_init(h);
}

/* Makes room for n timers in all, so that a push cannot fail. */
int act_heap_reserve(act_heap *h, size_t n) {
  if (n > h->cap) {
    size_t cap = h->cap ? h->cap : 64;
    act_timer **items;
    while (cap < n) cap *= 2;
    items = realloc(h->items, cap * sizeof *items);
    if (items == NULL) return -1;
    h->items = items;
    h->cap = cap;
  }
  return 0;
}

void act_heap_push(act_heap *h, act_timer *t) {
  place(h, h->n++, t);
  sift_up(h, t->index);
}

act_timer *act_heap_top(const act_heap *h) {
  return h->n ? h->items[0] : NULL;
}

act_timer *act_heap_pop(act_heap *h) {
  act_timer *top = act_heap_top(h);
  if (top != NULL) act_heap_remove(h, top);
  return top;
}

void act_heap_remove(act_heap *h, act_timer *t) {
  size_t i = t->index;
  act_timer *last;
  if (i == ACT_NOT_IN_HEAP) return;
  t->index = ACT_NOT_IN_HEAP;
  last = h->items[--h->n];
  if (i == h->n) return;  /* it was the last one */
  place(h, i, last);
  if (i > 0 && earlier(last, h->items[(i - 1) / 2]))
    sift_up(h, i);
  else
    sift_down(h, i);
}
