/* lib/crashpoint.c -- named points where a test can have the process die (SIGKILL) to prove recovery */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/crashpoint.h"
#include "lib/log.h"

void crashpoint(const char *name)
{
	const char *at = getenv("TANDEM_CRASH_AT");
	if (at == NULL || strcmp(at, name) != 0)
		return;
	log_warn("crash point %s reached: killing the process (TANDEM_CRASH_AT)", name);
	raise(SIGKILL);
}

void pausepoint(const char *name)
{
	const char *at = getenv("TANDEM_PAUSE_AT");
	size_t len = strlen(name);
	if (at == NULL || strncmp(at, name, len) != 0 || at[len] != ':')
		return;
	long seconds = strtol(at + len + 1, NULL, 10);
	if (seconds < 1 || seconds > 60)
		return;
	log_warn("pause point %s reached: pausing %ld s (TANDEM_PAUSE_AT)", name, seconds);
	sleep((unsigned)seconds);
}
