/* runtime/tlsctx.c -- the TLS contexts in force: our certificate, a client context per `tls:` profile
 *
 * Made at start and again at reload, under one lock; a TLS connection (server/xot.c) or a refresh over
 * TLS (repl/refresh.c) keeps a reference to the context it started with, so a reload never pulls a
 * context from under it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/log.h"
#include "runtime/tlsctx.h"

typedef struct {
	char *name;
	tls_client_t *client;
} profile_t;

struct tlsctx {
	pthread_mutex_t lock;          /* everything below, replaced at reload */
	tls_server_t *server_ctx;
	profile_t *profiles;
	size_t nprofiles;
	tlsctx_limits_t limits;
};

static void profiles_free(profile_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		tls_client_unref(p[i].client);
	}
	free(p);
}

/* New contexts from conf into *server and *profiles; TDM_OK, or an error logged with its file. */
static int contexts_new(const conf_t *conf, tls_server_t **server, profile_t **profiles)
{
	char why[512];
	int ret = TDM_OK;
	*server = NULL;
	*profiles = calloc(conf->tls_count ? conf->tls_count : 1, sizeof(profile_t));
	if (*profiles == NULL)
		return TDM_ENOMEM;
	for (size_t i = 0; i < conf->tls_count && ret == TDM_OK; i++) {
		const conf_tls_t *t = &conf->tls[i];
		tls_client_conf_t tc = { .hostname = t->hostname, .ca_file = t->ca_file, .pin = t->pin,
		                         .certificate = t->certificate, .key = t->key };
		if (((*profiles)[i].name = strdup(t->name)) == NULL)
			ret = TDM_ENOMEM;
		else if ((ret = tls_client_new(&tc, &(*profiles)[i].client, why, sizeof(why))) != TDM_OK)
			log_err("tls %s: %s", t->name, why);
	}
	const conf_server_t *cs = &conf->server;
	if (ret == TDM_OK && cs->tls_listen_count > 0) {
		tls_server_conf_t sc = { .certificate = cs->tls_certificate, .key = cs->tls_key,
		                         .client_ca = cs->tls_client_ca };
		if ((ret = tls_server_new(&sc, server, why, sizeof(why))) != TDM_OK)
			log_err("server.tls: %s", why);
	}
	if (ret != TDM_OK) {
		profiles_free(*profiles, conf->tls_count);
		*profiles = NULL;
	}
	return ret;
}

int tlsctx_configure(tlsctx_t **ctx, const conf_t *conf)
{
	tls_server_t *server = NULL;
	profile_t *profiles = NULL;
	int ret = contexts_new(conf, &server, &profiles);
	if (ret != TDM_OK) {
		if (*ctx != NULL)
			log_err("TLS contexts not replaced: the running ones stay");
		return ret;
	}
	tlsctx_t *c = *ctx;
	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			tls_server_unref(server);
			profiles_free(profiles, conf->tls_count);
			return TDM_ENOMEM;
		}
		pthread_mutex_init(&c->lock, NULL);
		*ctx = c;
	}
	pthread_mutex_lock(&c->lock);
	tls_server_t *old_server = c->server_ctx;
	profile_t *old = c->profiles;
	size_t old_n = c->nprofiles;
	c->server_ctx = server;
	c->profiles = profiles;
	c->nprofiles = conf->tls_count;
	c->limits = (tlsctx_limits_t){ .max_clients = conf->server.tls_max_clients,
	                               .per_address = conf->server.tls_max_per_address,
	                               .handshake_ms = conf->server.tls_handshake_timeout * 1000,
	                               .idle_ms = conf->server.tls_idle_timeout * 1000 };
	pthread_mutex_unlock(&c->lock);
	tls_server_unref(old_server);
	profiles_free(old, old_n);
	return TDM_OK;
}

tls_client_t *tlsctx_client(tlsctx_t *ctx, const conf_tls_t *tls)
{
	if (tls == NULL || ctx == NULL)
		return NULL;
	tls_client_t *c = NULL;
	pthread_mutex_lock(&ctx->lock);
	for (size_t i = 0; i < ctx->nprofiles && c == NULL; i++)
		if (strcmp(ctx->profiles[i].name, tls->name) == 0 && ctx->profiles[i].client != NULL) {
			c = ctx->profiles[i].client;
			tls_client_ref(c);
		}
	pthread_mutex_unlock(&ctx->lock);
	return c;
}

tls_server_t *tlsctx_server(tlsctx_t *ctx, tlsctx_limits_t *limits)
{
	*limits = (tlsctx_limits_t){ 0 };
	if (ctx == NULL)
		return NULL;
	pthread_mutex_lock(&ctx->lock);
	tls_server_t *s = ctx->server_ctx;
	if (s != NULL)
		tls_server_ref(s);
	*limits = ctx->limits;
	pthread_mutex_unlock(&ctx->lock);
	return s;
}

void tlsctx_free(tlsctx_t *ctx)
{
	if (ctx == NULL)
		return;
	tls_server_unref(ctx->server_ctx);
	profiles_free(ctx->profiles, ctx->nprofiles);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}
