/* lib/crashpoint.c -- named points where a test can have the process die (SIGKILL) to prove recovery */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

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
