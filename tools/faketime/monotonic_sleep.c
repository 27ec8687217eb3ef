/* Absolute CLOCK_MONOTONIC sleeps go straight to the kernel under libfaketime.
 *
 * Debian's libfaketime 0.9.10 shifts the deadline of clock_nanosleep(CLOCK_MONOTONIC,
 * TIMER_ABSTIME) by the fake offset even with FAKETIME_DONT_FAKE_MONOTONIC=1, so the kernel gets
 * a negative time and Python 3.11's time.sleep() fails with EINVAL (libfaketime issue 426,
 * fixed upstream after 0.9.10). With the monotonic clock left real, the right thing is to pass
 * such sleeps through untouched, which is all this does; realtime sleeps still go to
 * libfaketime. Preloaded before libfaketime by .ci/run's shifted-clock test run.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_nanosleep_fn)(clockid_t, int, const struct timespec *, struct timespec *);

int clock_nanosleep(clockid_t clock_id, int flags, const struct timespec *request,
                    struct timespec *remain) {
    if (clock_id == CLOCK_MONOTONIC) {
        /* clock_nanosleep returns the error number itself, not -1 and errno. */
        return syscall(SYS_clock_nanosleep, clock_id, flags, request, remain) == -1 ? errno : 0;
    }
    static clock_nanosleep_fn next;
    if (next == NULL) {
        next = (clock_nanosleep_fn)dlsym(RTLD_NEXT, "clock_nanosleep");
    }
    return next(clock_id, flags, request, remain);
}
