/*
 * tsan: tells ThreadSanitizer of an ordering it cannot see.
 *
 * A pointer handed from one thread to another through ZeroMQ (an inproc
 * socket) is ordered by atomics inside libzmq, which is built without
 * ThreadSanitizer: the receiving thread's reads of what the pointer points
 * to then look like races with the sender's writes.  The sender calls
 * tsan_release(p) just before the send and the receiver tsan_acquire(p)
 * just after the receive, which is exactly the order the socket gives.
 * Without -fsanitize=thread both compile to nothing.
 */
#ifndef LCA_BASE_TSAN_H
#define LCA_BASE_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define LCA_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LCA_TSAN 1
#endif
#endif

#ifdef LCA_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
static inline void tsan_release(void *addr) {
    __tsan_release(addr);
}
static inline void tsan_acquire(void *addr) {
    __tsan_acquire(addr);
}
#else
static inline void tsan_release(void *addr) {
    (void)addr;
}
static inline void tsan_acquire(void *addr) {
    (void)addr;
}
#endif

#endif
