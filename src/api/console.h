/* api/console.h -- the web console (www/), built into the daemon and served at / by the API's listener */
#pragma once

#include "api/http.h"

/*
 * The static file handler (api_set_static): "/" is /index.html; a file of www/ is answered with its
 * Content-Type and a Content-Security-Policy that lets the page load and fetch only from its own
 * origin; anything else is 404. No key is needed for the files: every request for data goes to the
 * API with the key the person logging in gives.
 */
void console_serve(void *ctx, const char *path, api_reply_t *reply);
