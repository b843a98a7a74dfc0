/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Maintenance the scheduler knows about: the profile's section, the record, the hooks, and
 * the order of enter, leave and hold; the schedulers' commands are in maint-slurm.c and
 * maint-kube.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "apply/maint-internal.h"
#include "plan/plan.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"

static const cJSON *section(const struct profile *p)
{
	return cJSON_GetObjectItemCaseSensitive(p->doc, "maintenance");
}

static const struct maint_scheduler *scheduler_by_name(const char *name)
{
	if (streq_ptr(name, "slurm"))
		return &maint_slurm;
	if (streq_ptr(name, "kubernetes"))
		return &maint_kube;
	return NULL;
}

static int argv_from(const cJSON *a, char ***ret)
{
	const cJSON *e;
	size_t n = 0;

	*ret = NULL;
	cJSON_ArrayForEach(e, a)
		if (cJSON_IsString(e) && strv_push(ret, &n, e->valuestring) < 0)
			return -ENOMEM;
	return 0;
}

int maint_config_from_profile(const struct profile *p, const char *node, struct maint_config *ret)
{
	const cJSON *s = section(p), *t = cJSON_GetObjectItemCaseSensitive(s, "drain_timeout");
	struct maint_config c = {
		.scheduler = json_str(s, "scheduler") ? json_str(s, "scheduler") : "none",
		.node = node,
		.drain_timeout = cJSON_IsNumber(t) ? (long)t->valuedouble : MAINT_DRAIN_TIMEOUT_DEFAULT,
		.kubeconfig = json_str(s, "kubeconfig"),
		.profile = p->name,
	};

	if (argv_from(cJSON_GetObjectItemCaseSensitive(s, "pre"), &c.pre) < 0 ||
	    argv_from(cJSON_GetObjectItemCaseSensitive(s, "post"), &c.post) < 0) {
		maint_config_done(&c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

void maint_config_done(struct maint_config *c)
{
	if (!c)
		return;
	c->pre = strv_free(c->pre);
	c->post = strv_free(c->post);
}

bool maint_wanted(const struct profile *p)
{
	const cJSON *s = section(p);

	return scheduler_by_name(json_str(s, "scheduler")) || cJSON_GetObjectItemCaseSensitive(s, "pre") ||
	       cJSON_GetObjectItemCaseSensitive(s, "post");
}

int maint_node(const struct profile *p, const struct root *root, const struct root *sys, char **ret)
{
	const char *named = json_str(section(p), "node");
	char *line = NULL;

	if (named)
		return (*ret = strdup(named)) ? 0 : -ENOMEM;
	/* The running kernel's name for the node first: /etc/hostname may be a template's. */
	if ((sys && root_read_line(sys, "proc/sys/kernel/hostname", &line) >= 0) ||
	    root_read_line(root, "etc/hostname", &line) >= 0) {
		strstrip(line);
		if (*line) {
			*ret = line;
			return 0;
		}
		free(line);
	}
	return -ENOENT;
}

char *maint_target(const struct maint_config *c)
{
	char *s = NULL;

	if (!scheduler_by_name(c->scheduler))
		return strdup("hooks");
	return asprintf(&s, "%s node %s", c->scheduler, c->node) < 0 ? NULL : s;
}

int maint_plan(const struct profile *p, const struct root *root, const struct root *sys, struct plan *pl,
	       char **ret_error)
{
	_cleanup_(maint_config_done) struct maint_config c = {};
	_cleanup_free_ char *node = NULL, *target = NULL, *why = NULL;
	bool changes = false;
	int k;

	for (size_t i = 0; i < pl->n; i++)
		changes |= !streq(pl->actions[i].kind, "reboot");
	/* Nothing but the reboot still to make: the change is in place, and so is the drain. */
	if (!pl->reboot || !changes || !maint_wanted(p))
		return 0;
	if ((k = maint_config_from_profile(p, NULL, &c)) < 0)
		return k;
	k = maint_node(p, root, sys, &node);
	if (k == -ENOENT && scheduler_by_name(c.scheduler))
		return gp_error_set(ret_error, k,
				    "maintenance: the profile names no node and neither /proc/sys/kernel/hostname nor "
				    "/etc/hostname gives the machine's name; set maintenance.node");
	if (k < 0 && k != -ENOENT)
		return k;
	c.node = node ? node : "";
	if (!(target = maint_target(&c)))
		return -ENOMEM;
	if (!scheduler_by_name(c.scheduler))
		k = asprintf(&why, "the change needs a reboot: the pre hook runs before it, the post hook once verify "
				   "--commit keeps the new stack");
	else if (streq(c.scheduler, "slurm"))
		k = asprintf(&why, "the change needs a reboot: %sdrain the node (reason \"" MAINT_REASON_PREFIX " RUNID\"), "
				   "wait up to %lds for its jobs to end; verify --commit resumes it",
			     c.pre ? "the pre hook, then " : "", c.drain_timeout);
	else
		k = asprintf(&why, "the change needs a reboot: %sannotate (" MAINT_ANNOTATION "=RUNID), cordon and drain "
				   "the node (--timeout=%lds); verify --commit uncordons it",
			     c.pre ? "the pre hook, then " : "", c.drain_timeout);
	if (k < 0)
		return -ENOMEM;
	return plan_add_first(pl, "maintenance", target, why);
}

const char *maint_plan_node(const char *target)
{
	const char *node = startswith(target, "slurm node ");

	return node ? node : startswith(target, "kubernetes node ");
}

void maint_outcome_done(struct maint_outcome *o)
{
	o->lines = strv_free(o->lines);
	o->error = mfree(o->error);
	o->n = 0;
}

bool maint_record_open(const cJSON *record)
{
	return cJSON_IsObject(record) && json_str(record, "node") && !json_str(record, "ended");
}

/* ---- what the schedulers share ----------------------------------------------------- */

int maint_cmd(struct maint_run *m, char *const argv[], struct spawn_result *ret)
{
	struct spawn_result r = {};
	int k = spawn_run(m->root, SPAWN_IN_ROOT, argv, NULL, &r);

	if (k < 0) {
		spawn_result_done(&r);
		return maint_fail(m, k, "cannot run %s: %s", argv[0], gp_strerror(k));
	}
	if (r.status != 0) {
		_cleanup_free_ char *d = spawn_describe(argv, &r);

		k = maint_fail(m, -GPE_COMMAND, "%s", d ? d : argv[0]);
	}
	if (ret)
		*ret = r;
	else
		spawn_result_done(&r);
	return k;
}

int maint_say(struct maint_run *m, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = strv_pushv(&m->out->lines, &m->out->n, fmt, ap);
	va_end(ap);
	return k;
}

int maint_fail(struct maint_run *m, int error, const char *fmt, ...)
{
	va_list ap;

	free(m->out->error);
	va_start(ap, fmt);
	if (vasprintf(&m->out->error, fmt, ap) < 0)
		m->out->error = NULL;
	va_end(ap);
	return error;
}

const char *maint_rec_str(const cJSON *rec, const char *key)
{
	return json_str(rec, key);
}

int maint_rec_set_str(cJSON *rec, const char *key, const char *value)
{
	cJSON *v = value ? cJSON_CreateString(value) : cJSON_CreateNull();

	if (!v)
		return -ENOMEM;
	if (cJSON_GetObjectItemCaseSensitive(rec, key))
		return cJSON_ReplaceItemInObjectCaseSensitive(rec, key, v) ? 0 : (cJSON_Delete(v), -ENOMEM);
	return cJSON_AddItemToObject(rec, key, v) ? 0 : (cJSON_Delete(v), -ENOMEM);
}

int maint_rec_set_bool(cJSON *rec, const char *key, bool value)
{
	cJSON *v = cJSON_CreateBool(value);

	if (!v)
		return -ENOMEM;
	if (cJSON_GetObjectItemCaseSensitive(rec, key))
		return cJSON_ReplaceItemInObjectCaseSensitive(rec, key, v) ? 0 : (cJSON_Delete(v), -ENOMEM);
	return cJSON_AddItemToObject(rec, key, v) ? 0 : (cJSON_Delete(v), -ENOMEM);
}

double maint_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool maint_wait(double deadline)
{
	if (maint_now() + MAINT_POLL_S > deadline)
		return false;
	nanosleep(&(struct timespec){ .tv_sec = MAINT_POLL_S }, NULL);
	return true;
}

/* ---- the record and the hooks ------------------------------------------------------ */

/* "20261207T012233Z-4f1a9c": when, and 24 random bits, so that two runs in one second
 * differ. */
static int run_id_new(char buf[static 32])
{
	unsigned char r[3];
	size_t n;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -errno;
	utc_now_compact(buf);
	n = strlen(buf);
	snprintf(buf + n, 32 - n, "-%02x%02x%02x", r[0], r[1], r[2]);
	return 0;
}

static int record_new(const struct maint_config *c, cJSON **ret)
{
	_cleanup_(cJSON_Deletep) cJSON *rec = cJSON_CreateObject();
	_cleanup_free_ char *reason = NULL;
	char id[32], since[32];
	int k;

	if ((k = run_id_new(id)) < 0)
		return k;
	utc_now(since);
	if (asprintf(&reason, MAINT_REASON_PREFIX " %s", id) < 0)
		return -ENOMEM;
	if (!rec || !cJSON_AddStringToObject(rec, "scheduler", c->scheduler) ||
	    !json_add_str_or_null(rec, "node", c->node) || !cJSON_AddStringToObject(rec, "run_id", id) ||
	    !cJSON_AddStringToObject(rec, "reason", reason) || !cJSON_AddFalseToObject(rec, "drained") ||
	    !cJSON_AddStringToObject(rec, "since", since) || !json_add_str_or_null(rec, "kubeconfig", c->kubeconfig) ||
	    !cJSON_AddStringToObject(rec, "profile", c->profile) ||
	    (c->post ? json_add_strv(rec, "post", c->post) < 0 : !cJSON_AddNullToObject(rec, "post")) ||
	    !cJSON_AddNullToObject(rec, "held") || !cJSON_AddNullToObject(rec, "retried") ||
	    !cJSON_AddNullToObject(rec, "ended") ||
	    !cJSON_AddNullToObject(rec, "left"))
		return -ENOMEM;
	*ret = TAKE_PTR(rec);
	return 0;
}

/* A hook with what it needs to know in its environment; a failure is a failed command. */
static int hook(struct maint_run *m, char *const argv[], const char *phase)
{
	_cleanup_(strv_freep) char **env = NULL;
	size_t n = 0;
	int k;

	if (strv_pushf(&env, &n, "GPUPROV_RUN_ID=%s", strna(maint_rec_str(m->rec, "run_id"))) < 0 ||
	    strv_pushf(&env, &n, "GPUPROV_PROFILE=%s", strna(maint_rec_str(m->rec, "profile"))) < 0 ||
	    strv_pushf(&env, &n, "GPUPROV_NODE=%s", strna(maint_rec_str(m->rec, "node"))) < 0 ||
	    strv_pushf(&env, &n, "GPUPROV_REASON=%s", strna(maint_rec_str(m->rec, "reason"))) < 0 ||
	    strv_pushf(&env, &n, "GPUPROV_PHASE=%s", phase) < 0)
		return -ENOMEM;
	struct spawn_result r = {};
	k = spawn_run(m->root, SPAWN_IN_ROOT, argv, env, &r);
	if (k < 0)
		return maint_fail(m, k, "the %s hook %s cannot run: %s", phase, argv[0], gp_strerror(k));
	if (r.status != 0) {
		_cleanup_free_ char *d = spawn_describe(argv, &r);

		spawn_result_done(&r);
		return maint_fail(m, -GPE_COMMAND, "the %s hook failed: %s", phase, strna(d));
	}
	spawn_result_done(&r);
	return maint_say(m, "ran the %s hook %s", phase, argv[0]) < 0 ? -ENOMEM : 0;
}

int maint_enter(const struct root *root, const struct maint_config *c, cJSON **record, struct maint_outcome *out)
{
	_cleanup_(cJSON_Deletep) cJSON *rec = NULL;
	const struct maint_scheduler *s = scheduler_by_name(c->scheduler);
	struct maint_run m = { .root = root, .cfg = c, .out = out };
	int k;

	/* Already out of the scheduler for gpuprov (an apply that failed after the drain, a
	 * maintenance start before it): not drained again, the record stays. A node held after a
	 * failed verify is the operator's to retry: a new apply is that retry, and the verify
	 * after it decides (a commit lets the node back, a failure holds it again). */
	if (maint_record_open(*record) && streq_ptr(json_str(*record, "node"), c->node)) {
		char when[32];

		m.rec = *record;
		if (!json_str(*record, "held"))
			return maint_say(&m, "%s is in gpuprov's maintenance already (run %s)", c->node,
					 strna(json_str(*record, "run_id"))) < 0 ? -ENOMEM : 0;
		utc_now(when);
		if ((k = maint_rec_set_str(*record, "retried", when)) < 0)
			return k;
		return maint_say(&m, "%s was held in gpuprov's maintenance (run %s: %s); this apply retries, and its verify decides",
				 c->node, strna(json_str(*record, "run_id")), json_str(*record, "held")) < 0 ? -ENOMEM : 0;
	}
	if ((k = record_new(c, &rec)) < 0)
		return k;
	m.rec = rec;
	if (c->pre && (k = hook(&m, c->pre, "pre")) < 0)
		return k == -ENOMEM ? k : -GPE_REFUSED;
	if (s && (k = s->enter(&m)) < 0)
		return k;
	cJSON_Delete(*record);
	*record = TAKE_PTR(rec);
	return 0;
}

/* Whether the node was out before gpuprov's run, by someone else's drain or cordon: then
 * neither leave nor hold touches it, and that is said. */
static bool drained_by_others(const struct maint_run *m)
{
	return !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m->rec, "drained"));
}

static int finish(struct maint_run *m)
{
	char when[32];

	utc_now(when);
	return maint_rec_set_str(m->rec, "ended", when);
}

int maint_leave(const struct root *root, cJSON *record, bool force, struct maint_outcome *out)
{
	struct maint_run m = { .root = root, .rec = record, .out = out };
	const struct maint_scheduler *s = scheduler_by_name(json_str(record, "scheduler"));
	_cleanup_(strv_freep) char **post = NULL;
	int k;

	if (!maint_record_open(record))
		return maint_say(&m, "no maintenance of gpuprov's to end") < 0 ? -ENOMEM : 0;
	if (json_str(record, "held") && !json_str(record, "retried") && !force)
		return maint_fail(&m, -GPE_REFUSED, "%s is held in maintenance: %s; --force lets it back",
				  json_str(record, "node"), json_str(record, "held"));
	if (s && drained_by_others(&m)) {
		_cleanup_free_ char *left = NULL;

		if (maint_say(&m, "%s node %s: the %s before gpuprov's run is not gpuprov's, left as it is", s->name,
			      json_str(record, "node"), s->noun) < 0 ||
		    asprintf(&left, "%s by someone else before gpuprov", s->state) < 0)
			return -ENOMEM;
		if ((k = maint_rec_set_str(record, "left", left)) < 0)
			return k;
	} else if (s && (k = s->leave(&m)) < 0)
		return k;
	if ((k = argv_from(cJSON_GetObjectItemCaseSensitive(record, "post"), &post)) < 0)
		return k;
	if (post && (k = hook(&m, post, "post")) < 0) {
		/* The node is back; the record ends, and the failure is reported. */
		(void)finish(&m);
		return k;
	}
	return finish(&m);
}

int maint_hold(const struct root *root, cJSON *record, const char *why, struct maint_outcome *out)
{
	struct maint_run m = { .root = root, .rec = record, .out = out };
	const struct maint_scheduler *s = scheduler_by_name(json_str(record, "scheduler"));
	int k;

	if (!maint_record_open(record))
		return 0;
	if (s && drained_by_others(&m)) {
		if (maint_say(&m, "%s node %s stays %s by whoever %s it", s->name, json_str(record, "node"), s->state,
			      s->state) < 0)
			return -ENOMEM;
	} else if (s && (k = s->hold(&m, why)) < 0)
		return k;
	if ((k = maint_rec_set_str(record, "retried", NULL)) < 0)
		return k;
	return maint_rec_set_str(record, "held", why);
}

int maint_view(const struct root *root, const cJSON *record, cJSON **ret)
{
	struct maint_outcome out = {};
	struct maint_run m = { .root = root, .rec = (cJSON *)record, .out = &out };
	const struct maint_scheduler *s = scheduler_by_name(json_str(record, "scheduler"));
	_cleanup_(cJSON_Deletep) cJSON *view = cJSON_CreateObject();
	int k = 0;

	if (!view)
		return -ENOMEM;
	if (s && json_str(record, "node"))
		k = s->view(&m, view);
	/* A scheduler that does not answer is part of the view, not a failure of status. */
	if (k < 0 && k != -ENOMEM && !json_add_str_or_null(view, "error", out.error ? out.error : gp_strerror(k)))
		k = -ENOMEM;
	maint_outcome_done(&out);
	if (k == -ENOMEM)
		return k;
	*ret = TAKE_PTR(view);
	return 0;
}
