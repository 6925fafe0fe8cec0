/*
** test.h: the assertions of the C tests (after libuv's test/task.h).
** A failed assertion prints where and what, and exits with status 1.
*/
#ifndef ACTRESS_TEST_H
#define ACTRESS_TEST_H

#include <stdio.h>
#include <stdlib.h>

#define ASSERT(expr)                                                    \
  do {                                                                  \
    if (!(expr)) {                                                      \
      fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__,        \
              __LINE__, #expr);                                         \
      exit(1);                                                          \
    }                                                                   \
  } while (0)

#define ASSERT_EQ(a, b)                                                 \
  do {                                                                  \
    long long a_ = (long long)(a), b_ = (long long)(b);                 \
    if (a_ != b_) {                                                     \
      fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n",         \
              __FILE__, __LINE__, #a, #b, a_, b_);                      \
      exit(1);                                                          \
    }                                                                   \
  } while (0)

#endif
