/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kubernetes' side of maintenance, through kubectl (get node -o json, annotate, cordon,
 * drain, uncordon): the annotation gpuprov/cordoned holds the run id of the cordon that is
 * gpuprov's, as Slurm's reason does. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "apply/maint-internal.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/strutil.h"

/* A node as `kubectl get node -o json` prints it: the members gpuprov reads. */
struct kube_node {
	bool unschedulable;
	char *cordoned; /* the gpuprov/cordoned annotation, or NULL */
	char *held;
};

static void kube_node_done(struct kube_node *n)
{
	n->cordoned = mfree(n->cordoned);
	n->held = mfree(n->held);
}

/* kubectl [--kubeconfig K] words... */
static int kubectl(struct maint_run *m, struct spawn_result *ret, const char *first, ...)
{
	_cleanup_(strv_freep) char **argv = NULL;
	const char *kc = m->cfg ? m->cfg->kubeconfig : maint_rec_str(m->rec, "kubeconfig");
	size_t n = 0;
	va_list ap;
	int k = 0;

	if (strv_push(&argv, &n, "kubectl") < 0 || (kc && (strv_push(&argv, &n, "--kubeconfig") < 0 ||
							  strv_push(&argv, &n, kc) < 0)))
		return -ENOMEM;
	va_start(ap, first);
	for (const char *w = first; w && k >= 0; w = va_arg(ap, const char *))
		k = strv_push(&argv, &n, w);
	va_end(ap);
	return k < 0 ? k : maint_cmd(m, argv, ret);
}

static int get_node(struct maint_run *m, const char *node, struct kube_node *ret)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	struct spawn_result r = {};
	const cJSON *ann;
	int k = kubectl(m, &r, "get", "node", node, "-o", "json", NULL);

	if (k < 0) {
		spawn_result_done(&r);
		return k;
	}
	doc = cJSON_Parse(strna(r.out));
	spawn_result_done(&r);
	if (!cJSON_IsObject(doc))
		return maint_fail(m, -GPE_PARSE, "`kubectl get node %s -o json` printed no JSON object", node);
	ann = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "metadata"), "annotations");
	*ret = (struct kube_node){
		.unschedulable = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "spec"),
									      "unschedulable")),
	};
	if ((json_str(ann, MAINT_ANNOTATION) && !(ret->cordoned = strdup(json_str(ann, MAINT_ANNOTATION)))) ||
	    (json_str(ann, MAINT_HELD_ANNOTATION) && !(ret->held = strdup(json_str(ann, MAINT_HELD_ANNOTATION))))) {
		kube_node_done(ret);
		return -ENOMEM;
	}
	return 0;
}

static int kube_enter(struct maint_run *m)
{
	const char *node = m->cfg->node, *id = maint_rec_str(m->rec, "run_id");
	_cleanup_free_ char *ann = NULL, *timeout = NULL;
	struct kube_node kn = {};
	bool theirs;
	int k;

	if ((k = get_node(m, node, &kn)) < 0)
		return k == -ENOMEM ? k : -GPE_REFUSED;
	/* Cordoned by someone else (an admin, a health check): theirs to uncordon. */
	theirs = kn.unschedulable && !kn.cordoned;
	kube_node_done(&kn);
	if (theirs)
		return maint_say(m, "kubernetes node %s is cordoned already by someone else: not gpuprov's, left as it is", node);
	if (asprintf(&ann, MAINT_ANNOTATION "=%s", id) < 0 || asprintf(&timeout, "--timeout=%lds", m->cfg->drain_timeout) < 0)
		return -ENOMEM;
	/* The annotation first: a run stopped after the cordon still says whose it is. */
	if ((k = kubectl(m, NULL, "annotate", "--overwrite", "node", node, ann, NULL)) < 0)
		return k == -ENOMEM ? k : -GPE_REFUSED;
	if ((k = maint_rec_set_bool(m->rec, "drained", true)) < 0)
		return k;
	if ((k = kubectl(m, NULL, "cordon", node, NULL)) >= 0 &&
	    /* drain_timeout 0: do not wait, and kubectl's --timeout=0s would wait for ever */
	    (m->cfg->drain_timeout == 0 ||
	     (k = kubectl(m, NULL, "drain", node, "--ignore-daemonsets", "--delete-emptydir-data", timeout, NULL)) >= 0))
		return maint_say(m, "cordoned and drained kubernetes node %s (%s)", node, ann);
	if (k == -ENOMEM)
		return k;
	/* Back as it was: the cordon and the annotation were gpuprov's own. */
	{
		_cleanup_free_ char *why = strdup(strna(m->out->error));
		struct maint_outcome undo = {};
		struct maint_run u = *m;

		u.out = &undo;
		(void)kubectl(&u, NULL, "uncordon", node, NULL);
		(void)kubectl(&u, NULL, "annotate", "node", node, MAINT_ANNOTATION "-", NULL);
		maint_outcome_done(&undo);
		return maint_fail(m, -GPE_REFUSED, "kubernetes node %s could not be drained; gpuprov's cordon was undone: %s",
				  node, strna(why));
	}
}

static int kube_leave(struct maint_run *m)
{
	const char *node = maint_rec_str(m->rec, "node"), *id = maint_rec_str(m->rec, "run_id");
	_cleanup_free_ char *left = NULL;
	struct kube_node kn = {};
	bool ours;
	int k;

	if ((k = get_node(m, node, &kn)) < 0)
		return k;
	ours = streq_ptr(kn.cordoned, id);
	if (!ours && asprintf(&left, "the cordon is no longer gpuprov's (annotation %s is %s%s%s)", MAINT_ANNOTATION,
			      kn.cordoned ? "\"" : "", kn.cordoned ? kn.cordoned : "absent", kn.cordoned ? "\"" : "") < 0)
		left = NULL, k = -ENOMEM;
	kube_node_done(&kn);
	if (k < 0)
		return k;
	if (!ours) {
		if (maint_say(m, "kubernetes node %s left as it is: %s", node, left) < 0)
			return -ENOMEM;
		return maint_rec_set_str(m->rec, "left", left);
	}
	/* A node let back after a hold (--force) loses the hold's annotation too. */
	if ((k = kubectl(m, NULL, "uncordon", node, NULL)) < 0 ||
	    (k = json_str(m->rec, "held")
			 ? kubectl(m, NULL, "annotate", "node", node, MAINT_ANNOTATION "-", MAINT_HELD_ANNOTATION "-", NULL)
			 : kubectl(m, NULL, "annotate", "node", node, MAINT_ANNOTATION "-", NULL)) < 0)
		return k;
	return maint_say(m, "uncordoned kubernetes node %s", node);
}

static int kube_hold(struct maint_run *m, const char *why)
{
	const char *node = maint_rec_str(m->rec, "node"), *id = maint_rec_str(m->rec, "run_id");
	_cleanup_free_ char *ann = NULL;
	struct kube_node kn = {};
	bool ours;
	int k;

	if ((k = get_node(m, node, &kn)) < 0)
		return k;
	ours = streq_ptr(kn.cordoned, id);
	kube_node_done(&kn);
	if (!ours)
		return maint_say(m, "kubernetes node %s: the cordon is no longer gpuprov's; left as it is", node);
	if (asprintf(&ann, MAINT_HELD_ANNOTATION "=%s", why) < 0)
		return -ENOMEM;
	if ((k = kubectl(m, NULL, "annotate", "--overwrite", "node", node, ann, NULL)) < 0)
		return k;
	return maint_say(m, "kubernetes node %s stays cordoned (%s)", node, ann);
}

static int kube_view(struct maint_run *m, cJSON *view)
{
	struct kube_node kn = {};
	int k = get_node(m, maint_rec_str(m->rec, "node"), &kn);

	if (k < 0)
		return k;
	k = cJSON_AddBoolToObject(view, "unschedulable", kn.unschedulable) &&
			    json_add_str_or_null(view, MAINT_ANNOTATION, kn.cordoned) &&
			    json_add_str_or_null(view, MAINT_HELD_ANNOTATION, kn.held)
		    ? 0
		    : -ENOMEM;
	kube_node_done(&kn);
	return k;
}

const struct maint_scheduler maint_kube = {
	.name = "kubernetes",
	.noun = "cordon",
	.state = "cordoned",
	.enter = kube_enter,
	.leave = kube_leave,
	.hold = kube_hold,
	.view = kube_view,
};
