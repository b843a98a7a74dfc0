/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Slurm's side of maintenance, through scontrol (scontrol(1): show node --oneliner, update
 * nodename= state=drain|resume reason=). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "apply/maint-internal.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/strutil.h"

/* Where key=value begins in text[0..limit): at the start or after a blank; NULL if not. */
static const char *find_key(const char *text, const char *limit, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = strstr(text, key); p && p < limit; p = strstr(p + 1, key))
		if ((p == text || p[-1] == ' ' || p[-1] == '\t') && p[n] == '=')
			return p + n + 1;
	return NULL;
}

/* The end of Reason's text: Slurm appends " [user@time]" to the reason it prints, and may
 * print more keys after it (Comment=, Extra=). Without that suffix, the line's end. */
static size_t reason_len(const char *v)
{
	size_t n = strlen(v);

	for (const char *b = strstr(v, " ["); b; b = strstr(b + 1, " [")) {
		const char *close = strchr(b, ']'), *at = strchr(b, '@');

		if (close && at && at < close && (close[1] == '\0' || close[1] == ' '))
			return (size_t)(b - v);
	}
	return n;
}

int slurm_node_parse(const char *text, struct slurm_node *ret)
{
	_cleanup_free_ char *line = NULL;
	const char *nl = strchr(text, '\n'), *reason, *state;
	size_t n = nl ? (size_t)(nl - text) : strlen(text);
	struct slurm_node node = {};

	/* One node, one line: --oneliner. */
	if (!(line = strndup(text, n)))
		return -ENOMEM;
	reason = find_key(line, line + n, "Reason");
	state = find_key(line, reason ? reason : line + n, "State");
	if (!state)
		return -GPE_PARSE;
	if (!(node.state = strndup(state, strcspn(state, " \t"))))
		return -ENOMEM;
	if (reason && !(node.reason = strndup(reason, reason_len(reason)))) {
		slurm_node_done(&node);
		return -ENOMEM;
	}
	*ret = node;
	return 0;
}

void slurm_node_done(struct slurm_node *n)
{
	n->state = mfree(n->state);
	n->reason = mfree(n->reason);
}

/* Whether one of the '+'-separated words of state is word. */
static bool state_has(const char *state, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = state; p && *p; p = strchr(p, '+') ? strchr(p, '+') + 1 : NULL)
		if (strncmp(p, word, n) == 0 && (p[n] == '+' || p[n] == '\0'))
			return true;
	return false;
}

bool slurm_state_drain(const char *state)
{
	/* "IDLE+DRAIN", "MIXED+DRAIN", "DOWN+DRAIN"; sinfo's words for the same, too. */
	return state && (state_has(state, "DRAIN") || state_has(state, "DRAINED") || state_has(state, "DRAINING"));
}

bool slurm_state_empty(const char *state)
{
	/* Jobs run on an ALLOCATED or MIXED node and are ending on a COMPLETING one. */
	return state && !state_has(state, "ALLOCATED") && !state_has(state, "MIXED") && !state_has(state, "COMPLETING") &&
	       !state_has(state, "DRAINING");
}

static int show(struct maint_run *m, const char *node, struct slurm_node *ret)
{
	char *argv[] = { "scontrol", "show", "node", (char *)node, "--oneliner", NULL };
	struct spawn_result r = {};
	int k = maint_cmd(m, argv, &r);

	if (k >= 0 && (k = slurm_node_parse(strna(r.out), ret)) == -GPE_PARSE)
		k = maint_fail(m, k, "`scontrol show node %s --oneliner` printed no State=", node);
	spawn_result_done(&r);
	return k;
}

static int update(struct maint_run *m, const char *node, const char *state, const char *reason)
{
	_cleanup_free_ char *nodeopt = NULL, *stateopt = NULL, *reasonopt = NULL;

	if (asprintf(&nodeopt, "nodename=%s", node) < 0 || asprintf(&stateopt, "state=%s", state) < 0 ||
	    (reason && asprintf(&reasonopt, "reason=%s", reason) < 0))
		return -ENOMEM;
	char *argv[] = { "scontrol", "update", nodeopt, stateopt, reasonopt, NULL };
	return maint_cmd(m, argv, NULL);
}

static int slurm_enter(struct maint_run *m)
{
	const char *node = m->cfg->node, *reason = maint_rec_str(m->rec, "reason");
	struct slurm_node sn = {};
	double deadline = maint_now() + (double)m->cfg->drain_timeout;
	int k;

	if ((k = show(m, node, &sn)) < 0)
		return k == -ENOMEM ? k : -GPE_REFUSED;
	/* Someone else's drain (an admin's "hw-fault", a health check's): theirs to end. */
	if (slurm_state_drain(sn.state) && !startswith(strna(sn.reason), MAINT_REASON_PREFIX)) {
		k = maint_say(m, "slurm node %s is drained already by someone else (reason \"%s\"): not gpuprov's, left as it is",
			      node, strna(sn.reason));
		slurm_node_done(&sn);
		return k;
	}
	slurm_node_done(&sn);
	if ((k = update(m, node, "drain", reason)) < 0)
		return k == -ENOMEM ? k : -GPE_REFUSED;
	if ((k = maint_rec_set_bool(m->rec, "drained", true)) < 0)
		return k;
	for (;;) {
		bool empty;

		if ((k = show(m, node, &sn)) == -ENOMEM)
			return k;
		empty = k >= 0 && slurm_state_drain(sn.state) && slurm_state_empty(sn.state);
		slurm_node_done(&sn);
		if (empty || m->cfg->drain_timeout == 0)
			break;
		if (!maint_wait(deadline)) {
			/* Not emptied in time: the node goes back to its jobs, nothing else changed. */
			if ((k = update(m, node, "resume", NULL)) == -ENOMEM)
				return k;
			return maint_fail(m, -GPE_REFUSED, "slurm node %s still had jobs after %lds (drain_timeout); %s",
					  node, m->cfg->drain_timeout,
					  k < 0 ? "resuming it failed too" : "gpuprov's drain was undone (state=resume)");
		}
	}
	return maint_say(m, "drained slurm node %s (reason \"%s\")", node, reason);
}

/* Slurm refuses to resume a node it has not heard from since slurmctld started
 * (State=UNKNOWN: a controller that rebooted with the node, while slurmd waits for this
 * verify), "Invalid node state specified", yet clears its drain all the same. Drained no
 * more: the resume took, and its error is forgotten. */
static int resume_taken(struct maint_run *m, const char *node, int error)
{
	struct slurm_node sn = {};
	bool drained;

	if (show(m, node, &sn) < 0)
		return error;
	drained = slurm_state_drain(sn.state);
	slurm_node_done(&sn);
	if (drained)
		return error;
	m->out->error = mfree(m->out->error);
	return 0;
}

static int slurm_leave(struct maint_run *m)
{
	const char *node = maint_rec_str(m->rec, "node"), *reason = maint_rec_str(m->rec, "reason");
	_cleanup_free_ char *left = NULL;
	struct slurm_node sn = {};
	int k;

	if ((k = show(m, node, &sn)) < 0)
		return k;
	if (slurm_state_drain(sn.state) && streq_ptr(sn.reason, reason)) {
		slurm_node_done(&sn);
		if ((k = update(m, node, "resume", NULL)) < 0 && k != -ENOMEM)
			k = resume_taken(m, node, k);
		if (k < 0)
			return k;
		return maint_say(m, "resumed slurm node %s", node);
	}
	/* An admin changed the reason, or someone resumed the node: no longer gpuprov's. */
	if (!slurm_state_drain(sn.state))
		k = asprintf(&left, "the node is no longer drained (State=%s)", strna(sn.state));
	else
		k = asprintf(&left, "the drain is no longer gpuprov's (reason \"%s\")", strna(sn.reason));
	slurm_node_done(&sn);
	if (k < 0 || maint_say(m, "slurm node %s left as it is: %s", node, left) < 0)
		return -ENOMEM;
	return maint_rec_set_str(m->rec, "left", left);
}

static int slurm_hold(struct maint_run *m, const char *why)
{
	const char *node = maint_rec_str(m->rec, "node"), *reason = maint_rec_str(m->rec, "reason");
	_cleanup_free_ char *held = NULL;
	struct slurm_node sn = {};
	bool ours;
	int k;

	if ((k = show(m, node, &sn)) < 0)
		return k;
	ours = slurm_state_drain(sn.state) && streq_ptr(sn.reason, reason);
	slurm_node_done(&sn);
	if (!ours)
		return maint_say(m, "slurm node %s: the drain is no longer gpuprov's; left as it is", node);
	/* One line, and nothing Slurm would read as the end of the reason. */
	if (asprintf(&held, "%s: verify failed: %s", reason, why) < 0)
		return -ENOMEM;
	for (char *p = held; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '[' || *p == ']')
			*p = ' ';
	if ((k = update(m, node, "drain", held)) < 0)
		return k;
	if ((k = maint_rec_set_str(m->rec, "reason", held)) < 0)
		return k;
	return maint_say(m, "slurm node %s stays drained (reason \"%s\")", node, held);
}

static int slurm_view(struct maint_run *m, cJSON *view)
{
	struct slurm_node sn = {};
	int k = show(m, maint_rec_str(m->rec, "node"), &sn);

	if (k < 0)
		return k;
	k = json_add_str_or_null(view, "state", sn.state) && json_add_str_or_null(view, "reason", sn.reason) ? 0 : -ENOMEM;
	slurm_node_done(&sn);
	return k;
}

const struct maint_scheduler maint_slurm = {
	.name = "slurm",
	.noun = "drain",
	.state = "drained",
	.enter = slurm_enter,
	.leave = slurm_leave,
	.hold = slurm_hold,
	.view = slurm_view,
};
