/* lib/thread.h -- starting a thread nobody joins (a job that ends by itself) */
#pragma once

/* Runs fn(arg) on a new detached thread. TDM_OK or a negated errno (the thread did not start, arg
 * is still the caller's). */
int thread_detached(void *(*fn)(void *), void *arg);
