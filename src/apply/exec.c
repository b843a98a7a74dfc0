/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one journaled executor that apply and rollback run their plans through. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "apply/exec.h"
#include "apply/journal.h"
#include "files/managed.h"
#include "util/errors.h"
#include "util/strutil.h"

void exec_steps_done(struct exec_steps *st)
{
	for (size_t i = 0; i < st->n; i++)
		free(st->steps[i].label);
	st->steps = mfree(st->steps);
	st->n = 0;
}

int exec_add(struct exec_steps *st, const struct exec_step *s, const char *label_fmt, ...)
{
	struct exec_step *steps = reallocarray(st->steps, st->n + 1, sizeof(*steps));
	va_list ap;
	int k;

	if (!steps)
		return -ENOMEM;
	st->steps = steps;
	steps[st->n] = *s;
	va_start(ap, label_fmt);
	k = vasprintf(&steps[st->n].label, label_fmt, ap);
	va_end(ap);
	if (k < 0)
		return -ENOMEM;
	st->n++;
	return 0;
}

size_t exec_collect(const struct plan *pl, const char *kind, const char *via, struct pkg_want *w)
{
	size_t n = 0;

	for (size_t i = 0; i < pl->n; i++)
		if (streq(pl->actions[i].kind, kind) && streq_ptr(pl->actions[i].via, via))
			w[n++] = (struct pkg_want){ pl->actions[i].target, pl->actions[i].version };
	return n;
}

int exec_add_packages(struct exec_steps *st, const struct plan *pl, const char *kind, const char *via,
		      const char *what, const char *done)
{
	for (size_t i = 0; i < pl->n; i++)
		if (streq(pl->actions[i].kind, kind) && streq_ptr(pl->actions[i].via, via))
			return exec_add(st, &(struct exec_step){ .run = exec_packages, .kind = kind, .via = via,
								.what = what, .done = done },
					"%s (%s)", what, via);
	return 0;
}

int exec_fail(struct apply_report *rep, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error = gp_error_setv(&rep->error, error, fmt, ap);
	va_end(ap);
	return error;
}

int exec_packages(const struct exec *x, const struct exec_step *s)
{
	const struct pkg_backend *be = pkg_backend_by_name(s->via);
	struct pkg_want w[x->pl->n ? x->pl->n : 1];
	size_t n = exec_collect(x->pl, s->kind, s->via, w);
	int k;

	k = streq(s->kind, "install")  ? be->install(x->c, w, n)
	    : streq(s->kind, "remove") ? be->remove(x->c, w, n)
	    : streq(s->kind, "unhold") ? be->unhold(x->c, w, n)
				       : be->hold(x->c, w, n);
	if (k < 0)
		return exec_fail(x->rep, k, "%s (%s): %s", s->what, be->name, x->c->error ? x->c->error : gp_strerror(k));
	for (size_t i = 0; i < n; i++)
		if (strv_pushf(&x->rep->done, &x->rep->n_done, "%s %s%s%s (%s)", s->done, w[i].name, w[i].version ? " " : "",
			       w[i].version ? w[i].version : "", be->name) < 0)
			return -ENOMEM;
	return 0;
}

int exec_file(const struct exec *x, const struct exec_step *s)
{
	const struct action *a = &x->pl->actions[s->action];
	/* A file of which only some keys are gpuprov's keeps the record of them, not a backup. */
	int k = a->record ? managed_write_keys(x->c->root, a->target, a->content, a->mode ? a->mode : 0644, a->record)
			  : managed_write(x->c->root, a->target, a->content, a->content ? strlen(a->content) : 0,
					  a->mode ? a->mode : 0644);

	if (k < 0)
		return exec_fail(x->rep, k, "cannot write %s: %s", a->target, gp_strerror(k));
	return strv_pushf(&x->rep->done, &x->rep->n_done, "%s %s", a->content ? "wrote" : "removed", a->target) < 0 ? -ENOMEM
														     : 0;
}

int exec_run(const struct exec *x, const char *verb, const char *profile, const struct exec_steps *st,
	     int (*last)(const struct exec *x))
{
	_cleanup_(strv_freep) char **labels = NULL;
	struct journal j = {};
	size_t nl = 0;
	int k = 0;

	for (size_t i = 0; i < st->n; i++)
		if (strv_push(&labels, &nl, st->steps[i].label) < 0)
			return -ENOMEM;
	if ((k = journal_begin_run(&j, x->c->root, verb, profile, labels)) < 0) {
		journal_done(&j);
		return exec_fail(x->rep, k, "cannot write %s: %s", JOURNAL_FILE, gp_strerror(k));
	}
	for (size_t i = 0; i < st->n; i++) {
		if ((k = st->steps[i].run(x, &st->steps[i])) < 0)
			break;
		if ((k = journal_step_done(&j, i)) < 0) {
			exec_fail(x->rep, k, "cannot write %s: %s", JOURNAL_FILE, gp_strerror(k));
			break;
		}
	}
	/* Changed: some step did something; a step only reported as pending changed nothing. */
	x->rep->changed = x->rep->n_done > 0;
	if (k >= 0 && last && (k = last(x)) < 0 && !x->rep->error)
		exec_fail(x->rep, k, "%s", gp_strerror(k));
	(void)journal_finish(&j, k < 0 ? x->rep->error : NULL);
	journal_done(&j);
	return k < 0 ? k : 0;
}
