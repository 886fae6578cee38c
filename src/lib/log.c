/* lib/log.c -- logging to stderr, and the limiter for lines caused by network packets */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static enum log_level log_level = LOG_INFO;
static enum log_format log_format = LOG_FORMAT_TEXT;
static const char *level_names[] = { "error", "warning", "info", "debug" };
static const int syslog_priority[] = { 3, 4, 6, 7 };
static int journal = -1;   /* stderr is the journal's stream: -1 not yet known */

void log_set_level(enum log_level level)
{
	log_level = level;
}

void log_set_format(enum log_format format)
{
	log_format = format;
}

/* Whether $JOURNAL_STREAM ("device:inode", set by systemd) is our stderr (systemd.exec(5)). */
static bool to_journal(void)
{
	if (journal >= 0)
		return journal;
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	journal = env != NULL && sscanf(env, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
	          (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
	return journal;
}

/* The message as a JSON string's inside: quotes, backslashes and control characters escaped. */
static size_t json_escape(char *out, size_t cap, const char *in)
{
	size_t n = 0;
	for (; *in != '\0' && n + 7 < cap; in++) {
		unsigned char c = (unsigned char)*in;
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
	return n;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	if (level > log_level)
		return;
	char msg[1024], line[2048 + 128];
	int m = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (m < 0)
		msg[0] = '\0';
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[80];
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	bool jr = to_journal();
	size_t len = 0;
	if (jr)
		len += (size_t)snprintf(line, sizeof(line), "<%d>", syslog_priority[level]);
	if (log_format == LOG_FORMAT_JSON) {
		char esc[2048];
		json_escape(esc, sizeof(esc), msg);
		len += (size_t)snprintf(line + len, sizeof(line) - len,
		                        "{\"time\":\"%s\",\"level\":\"%s\",\"message\":\"%s\"}", when,
		                        level_names[level], esc);
	} else if (jr) {
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s: %s", level_names[level], msg);
	} else {
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s %s: %s", when, level_names[level], msg);
	}
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
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
