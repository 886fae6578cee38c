/* lib/log.h -- logging to stderr with a level and a timestamp; thread-safe (one write(2) per line) */
#pragma once

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are dropped. Default LOG_INFO; TANDEM_LOG=debug raises it. */
void log_set_level(enum log_level level);

/*
 * How a line is written. TEXT: "2026-12-04T23:19:32.123Z info: message". JSON: one object a line,
 * {"time": "...", "level": "info", "message": "..."} (the message escaped as JSON strings are). Under
 * systemd with stderr connected to the journal ($JOURNAL_STREAM names stderr's device and inode), each
 * line starts with its syslog priority ("<3>" error, "<4>" warning, "<6>" info, "<7>" debug:
 * sd-daemon(3)), so the journal keeps the levels; the text form then drops its timestamp (the journal
 * has its own).
 */
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };
void log_set_format(enum log_format format);

/* format(printf): lets the compiler check every call's arguments (GCC and Clang both know it). */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/*
 * Lines a network packet can cause (a request failing TSIG, a NOTIFY) go through a limiter, one per
 * kind of line, so that a flood of packets is not a flood of log lines (what the Linux kernel's
 * printk_ratelimit does): at most LOG_LIMIT_LINES lines of a kind in each LOG_LIMIT_WINDOW seconds.
 * The lines dropped are counted; the first line of that kind in a later window is preceded by
 * "KIND: N similar messages suppressed". A limiter is a static of the file that logs:
 *
 *   static log_limit_t tsig_failures = LOG_LIMIT_INIT("TSIG failures");
 *   log_limited(&tsig_failures, LOG_WARN, "TSIG from %s rejected (%s)", addr, why);
 *
 * Any thread may use one (a mutex inside, taken only on these lines, never on an answer's path).
 */
#define LOG_LIMIT_LINES 10
#define LOG_LIMIT_WINDOW 5      /* seconds */

typedef struct {
	const char *kind;            /* names the lines in the "suppressed" report */
	pthread_mutex_t lock;
	int64_t window;              /* start of the current window, monotonic seconds; 0 = none yet */
	unsigned logged;             /* lines let through in this window */
	uint64_t suppressed;         /* lines dropped since the last report */
} log_limit_t;

#define LOG_LIMIT_INIT(kind_) { .kind = (kind_), .lock = PTHREAD_MUTEX_INITIALIZER }

/* Logs like log_msg when the limiter lets the line through; counts it as suppressed otherwise. */
void log_limited(log_limit_t *limit, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The decision alone, at time now (monotonic seconds; for tests): true when a line may be logged,
 * with *report set to the lines suppressed since the last one let through (0: nothing to report). */
bool log_limit_pass(log_limit_t *limit, int64_t now, uint64_t *report);
