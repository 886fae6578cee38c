/* lib/log.h -- logging to stderr with a level and a timestamp; thread-safe (one write(2) per line) */
#pragma once

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are dropped. Default LOG_INFO; TANDEM_LOG=debug raises it. */
void log_set_level(enum log_level level);

/* format(printf): lets the compiler check every call's arguments (GCC and Clang both know it). */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
