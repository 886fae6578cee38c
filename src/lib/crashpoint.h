/* lib/crashpoint.h -- named points where a test can have the process die (SIGKILL) to prove recovery */
#pragma once

/*
 * A test sets TANDEM_CRASH_AT to the name of one point (store-append-before-commit, ...); the process
 * kills itself with SIGKILL when it reaches that point, as a machine losing power there would. The
 * points sit on paths that write the store, never on the query path; without the variable (always,
 * outside tests) a point is one getenv. docs/testing.md lists the points and the test that uses them.
 */
void crashpoint(const char *name);

/*
 * The same for a pause: TANDEM_PAUSE_AT=NAME:SECONDS (1 to 60) makes the thread that reaches the point
 * sleep that long, so that a test can show what the rest of the server does meanwhile (an API edit
 * answered while a zone file is being written back, or read for a reload: runtime/zonework.c's
 * filesync-write and reload-read; a role change while a compaction is half done: store-compact-staged).
 * Logged when reached.
 */
void pausepoint(const char *name);
