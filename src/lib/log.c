/* lib/log.c -- logging to stderr, and the limiter for lines caused by network packets */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static enum log_level log_level = LOG_INFO;
static const char *level_names[] = { "error", "warning", "info", "debug" };

void log_set_level(enum log_level level)
{
	log_level = level;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	if (level > log_level)
		return;
	char line[1024];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: ",
	                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	                 tm.tm_sec, ts.tv_nsec / 1000000, level_names[level]);
	int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	size_t len = (size_t)n + ((size_t)m < sizeof(line) - n - 2 ? (size_t)m : sizeof(line) - n - 2);
	line[len++] = '\n';
	/* One write per line, so lines from several threads never interleave. */
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

bool log_limit_pass(log_limit_t *limit, int64_t now, uint64_t *report)
{
	bool pass;
	*report = 0;
	pthread_mutex_lock(&limit->lock);
	if (limit->window == 0 || now - limit->window >= LOG_LIMIT_WINDOW || now < limit->window) {
		limit->window = now;
		limit->logged = 0;
	}
	pass = limit->logged < LOG_LIMIT_LINES;
	if (pass) {
		limit->logged++;
		*report = limit->suppressed;
		limit->suppressed = 0;
	} else {
		limit->suppressed++;
	}
	pthread_mutex_unlock(&limit->lock);
	return pass;
}

void log_limited(log_limit_t *limit, enum log_level level, const char *fmt, ...)
{
	/* Lines below the level cost nothing and count for nothing. */
	if (level > log_level)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	uint64_t report;
	if (!log_limit_pass(limit, (int64_t)ts.tv_sec + 1, &report))
		return;
	if (report > 0)
		log_msg(level, "%s: %llu similar messages suppressed (at most %d lines every %d s)",
		        limit->kind, (unsigned long long)report, LOG_LIMIT_LINES, LOG_LIMIT_WINDOW);
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}
