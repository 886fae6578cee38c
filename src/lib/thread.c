/* lib/thread.c -- starting a thread nobody joins */
#include <pthread.h>

#include "lib/error.h"
#include "lib/thread.h"

int thread_detached(void *(*fn)(void *), void *arg)
{
	pthread_t thread;
	pthread_attr_t attr;
	if (pthread_attr_init(&attr) != 0)
		return TDM_ENOMEM;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int ret = pthread_create(&thread, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return -ret;
}
