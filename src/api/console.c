/* api/console.c -- serves the web console's files, embedded into tandemd at build time from www/ */
#include <stdlib.h>
#include <string.h>

#include "api/console.h"
#include "api/console_files.h"

/*
 * The page runs only what it brought itself: no inline script or style, nothing from another origin,
 * no framing (clickjacking of a console that can delete zones), no referrer sent anywhere.
 */
#define CONSOLE_HEADERS                                                                            \
	"Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "         \
	"img-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; "          \
	"base-uri 'none'\r\n"                                                                       \
	"X-Content-Type-Options: nosniff\r\n"                                                       \
	"X-Frame-Options: DENY\r\n"                                                                 \
	"Referrer-Policy: no-referrer\r\n"

static const console_file_t *find(const char *path)
{
	size_t lo = 0, hi = console_file_count;
	while (lo < hi) {              /* the generated table is sorted by path (strcmp order) */
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(path, console_files[mid].path);
		if (c == 0)
			return &console_files[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void console_serve(void *ctx, const char *path, api_reply_t *reply)
{
	(void)ctx;
	const console_file_t *f = find(strcmp(path, "/") == 0 ? "/index.html" : path);
	if (f == NULL) {
		api_error(reply, 404, "no such file: %s", path);
		return;
	}
	char *text = malloc(f->len > 0 ? f->len : 1);
	if (text == NULL) {
		api_error(reply, 500, "out of memory");
		return;
	}
	memcpy(text, f->data, f->len);
	reply->status = 200;
	reply->text = text;
	reply->text_len = f->len;
	reply->content_type = f->content_type;
	reply->headers = CONSOLE_HEADERS;
}
