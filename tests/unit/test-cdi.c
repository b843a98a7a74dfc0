/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The CDI spec through cdi.c and plan-cdi.c: a spec as nvidia-ctk writes it reads back with its
 * devices, nodes and driver version; each way a spec can be wrong is refused, saying where;
 * and the plan's cdi action is there exactly when the spec does not fit the driver that will
 * run, or left to the boot unit when a reboot is pending. */
#include "unit.h"

#include <errno.h>
#include <string.h>

#include "host/cdi.h"
#include "host/facts.h"
#include "plan/plan.h"
#include "util/errors.h"
#include "util/root.h"
#include "util/strutil.h"

/* The shape nvidia-ctk 1.17 and the stand-in write (one GPU, by index and UUID, and "all"). */
#define SPEC_OF(version)                                                                                                \
	"{\"cdiVersion\":\"0.5.0\",\"kind\":\"nvidia.com/gpu\",\"devices\":["                                           \
	"{\"name\":\"0\",\"containerEdits\":{\"deviceNodes\":[{\"path\":\"/dev/nvidia0\"}]}},"                          \
	"{\"name\":\"GPU-5d1b9c2e-0f3a-4b7c-9e21-6a8d0c4f1e77\",\"containerEdits\":{\"deviceNodes\":[{\"path\":\"/dev/nvidia0\"}]}}," \
	"{\"name\":\"all\",\"containerEdits\":{\"deviceNodes\":[{\"path\":\"/dev/nvidia0\"}]}}],"                       \
	"\"containerEdits\":{\"env\":[\"NVIDIA_VISIBLE_DEVICES=void\"],\"deviceNodes\":[{\"path\":\"/dev/nvidia-uvm\"},"  \
	"{\"path\":\"/dev/nvidia-uvm-tools\"},{\"path\":\"/dev/nvidiactl\",\"major\":195,\"minor\":255,\"type\":\"c\"}]," \
	"\"hooks\":[{\"hookName\":\"createContainer\",\"path\":\"/usr/bin/nvidia-cdi-hook\",\"args\":[\"nvidia-cdi-hook\"]}]," \
	"\"mounts\":[{\"hostPath\":\"/usr/lib/x86_64-linux-gnu/libcuda.so." version "\","                              \
	"\"containerPath\":\"/usr/lib/x86_64-linux-gnu/libcuda.so." version "\",\"options\":[\"ro\"]},"                 \
	"{\"hostPath\":\"/usr/lib/x86_64-linux-gnu/libnvidia-ml.so." version "\","                                      \
	"\"containerPath\":\"/usr/lib/x86_64-linux-gnu/libnvidia-ml.so." version "\"}]}}"

static void test_parse(void **state)
{
	static const char text[] = SPEC_OF("550.54.15");
	struct cdi_spec *s = NULL;
	char *why = NULL;

	(void)state;
	assert_int_equal(cdi_spec_parse(text, strlen(text), &s, &why), 0);
	assert_string_equal(s->kind, "nvidia.com/gpu");
	assert_int_equal(s->n_devices, 3);
	assert_string_equal(s->devices[0], "0");
	assert_string_equal(s->devices[2], "all");
	/* /dev/nvidia0 once, though three devices name it; the control nodes once each. */
	assert_int_equal(s->n_nodes, 4);
	assert_string_equal(s->nodes[0].path, "/dev/nvidia0");
	assert_int_equal(s->nodes[0].major, -1);
	assert_string_equal(s->nodes[3].path, "/dev/nvidiactl");
	assert_int_equal(s->nodes[3].major, 195);
	assert_int_equal(s->nodes[3].minor, 255);
	assert_string_equal(s->driver_version, "550.54.15");
	cdi_spec_free(s);
	free(why);
}

static void test_parse_bad(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
		{ "[]", "not a JSON object" },
		{ "{\"kind\":\"nvidia.com/gpu\",\"devices\":[]}", "cdiVersion: missing" },
		{ "{\"cdiVersion\":\"0.5.0\",\"kind\":\"gpu\",\"devices\":[]}", "kind: expected \"vendor/class\"" },
		{ "{\"cdiVersion\":\"0.5.0\",\"kind\":\"nvidia.com/gpu\",\"devices\":[]}", "devices: missing or empty" },
		{ "{\"cdiVersion\":\"0.5.0\",\"kind\":\"nvidia.com/gpu\",\"devices\":[{\"name\":\"a b\",\"containerEdits\":{}}]}",
		  "devices[0].name: missing, or not a CDI device name" },
		{ "{\"cdiVersion\":\"0.5.0\",\"kind\":\"nvidia.com/gpu\",\"devices\":[{\"name\":\"0\",\"containerEdits\":{}},"
		  "{\"name\":\"0\",\"containerEdits\":{}}]}",
		  "devices[1].name: \"0\" is there twice" },
		{ "{\"cdiVersion\":\"0.5.0\",\"kind\":\"nvidia.com/gpu\",\"devices\":[{\"name\":\"0\"}]}",
		  "devices[0].containerEdits: missing or not an object" },
		{ "{\"cdiVersion\":\"0.5.0\",\"kind\":\"nvidia.com/gpu\",\"devices\":[{\"name\":\"0\",\"containerEdits\":"
		  "{\"deviceNodes\":[{\"path\":\"dev/nvidia0\"}]}}]}",
		  "devices[0].containerEdits.deviceNodes[0].path: not an absolute path" },
		{ "{\"cdiVersion\":\"0.5.0\",\"kind\":\"nvidia.com/gpu\",\"devices\":[{\"name\":\"0\",\"containerEdits\":"
		  "{\"deviceNodes\":[{\"path\":\"/dev/nvidia0\",\"major\":-1}]}}]}",
		  "major and minor must be whole numbers from 0" },
		{ "{\"cdiVersion\":\"0.5.0\",\"kind\":\"nvidia.com/gpu\",\"devices\":[{\"name\":\"0\",\"containerEdits\":"
		  "{\"deviceNodes\":[{\"path\":\"/dev/nvidia0\",\"type\":\"b\"}]}}]}",
		  "deviceNodes[0].type: expected \"c\"" },
		{ "{\"cdiVersion\":\"0.5.0\",\"kind\":\"nvidia.com/gpu\",\"devices\":[{\"name\":\"0\",\"containerEdits\":"
		  "{\"deviceNodes\":[{\"path\":\"/dev/nvidia0\",\"minor\":0},{\"path\":\"/dev/nvidia0\",\"minor\":1}]}}]}",
		  "/dev/nvidia0 is given two numbers" },
		{ "{\"cdiVersion\":\"0.5.0\",\"kind\":\"nvidia.com/gpu\",\"devices\":[{\"name\":\"0\",\"containerEdits\":{}}],"
		  "\"containerEdits\":{\"mounts\":[{\"hostPath\":\"/l/libcuda.so.550.54.15\",\"containerPath\":\"/l/libcuda.so.550.54.15\"},"
		  "{\"hostPath\":\"/l/libnvidia-ml.so.570.1\",\"containerPath\":\"/l/libnvidia-ml.so.570.1\"}]}}",
		  "is of driver 570.1, another mount of 550.54.15" },
		{ "{\"cdiVersion\":\"0.5.0\",\"kind\":\"nvidia.com/gpu\",\"devices\":[{\"name\":\"0\",\"containerEdits\":{}}],"
		  "\"containerEdits\":{\"mounts\":[{\"hostPath\":\"/l/libcuda.so.550.54.15\"}]}}",
		  "containerEdits.mounts[0]: expected an object with hostPath and containerPath" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct cdi_spec *s = NULL;
		char *why = NULL;

		assert_int_equal(cdi_spec_parse(cases[i].text, strlen(cases[i].text), &s, &why), -GPE_PARSE);
		assert_null(s);
		assert_non_null(why);
		if (!strstr(why, cases[i].why))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, why, cases[i].why);
		free(why);
	}
}

struct fixture {
	char top[64];
	struct root *r;
	struct profile p;
	struct facts f;
	struct resolution res;
	struct plan *pl;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	strcpy(fx->top, "/tmp/gpuprov-test-cdi-XXXXXX");
	assert_non_null(mkdtemp(fx->top));
	unit_sh("mkdir -p %s/proc %s/run/cdi", fx->top, fx->top);
	unit_sh("printf 'Character devices:\\n195 nvidia-frontend\\n511 nvidia-uvm\\n' >%s/proc/devices", fx->top);
	assert_int_equal(root_open(fx->top, &fx->r), 0);
	fx->p = (struct profile){ .name = "cdi", .container_toolkit = "1.17.8", .container_cdi = true, .container_cdi_dir = "/run/cdi" };
	fx->f.nvidia.driver_version = (char *)"570.133.20";
	fx->res.driver = (char *)"570.133.20";
	assert_non_null(fx->pl = calloc(1, sizeof(*fx->pl)));
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	root_free(fx->r);
	plan_free(fx->pl);
	unit_sh("rm -rf %s", fx->top);
	free(fx);
	return 0;
}

/* A spec without nodes, so that only the driver version decides; written as nvidia-ctk does. */
static void write_spec(const struct fixture *fx, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/run/cdi/nvidia.json", fx->top);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

#define NODELESS_OF(version)                                                                                      \
	"{\"cdiVersion\":\"0.5.0\",\"kind\":\"nvidia.com/gpu\",\"devices\":[{\"name\":\"all\",\"containerEdits\":{}}]," \
	"\"containerEdits\":{\"mounts\":[{\"hostPath\":\"/l/libcuda.so." version "\",\"containerPath\":\"/l/libcuda.so." version "\"}]}}"

static const struct action *cdi_action(const struct plan *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		if (streq(pl->actions[i].kind, "cdi"))
			return &pl->actions[i];
	return NULL;
}

static void test_plan_converged(void **state)
{
	struct fixture *fx = *state;

	write_spec(fx, NODELESS_OF("570.133.20"));
	assert_int_equal(plan_cdi(fx->pl, &fx->p, &fx->f, &fx->res, fx->r), 0);
	assert_null(cdi_action(fx->pl));
}

static void test_plan_missing(void **state)
{
	struct fixture *fx = *state;
	const struct action *a;

	assert_int_equal(plan_cdi(fx->pl, &fx->p, &fx->f, &fx->res, fx->r), 0);
	assert_non_null(a = cdi_action(fx->pl));
	assert_string_equal(a->target, "/run/cdi/nvidia.json");
	assert_null(a->detail);
	assert_non_null(strstr(a->reason, "for driver 570.133.20: no CDI spec"));
}

static void test_plan_stale(void **state)
{
	struct fixture *fx = *state;
	const struct action *a;

	write_spec(fx, NODELESS_OF("550.54.15"));
	assert_int_equal(plan_cdi(fx->pl, &fx->p, &fx->f, &fx->res, fx->r), 0);
	assert_non_null(a = cdi_action(fx->pl));
	assert_non_null(strstr(a->reason, "the spec is of driver 550.54.15, the running one is 570.133.20"));
}

static void test_plan_reboot(void **state)
{
	struct fixture *fx = *state;
	const struct action *a;

	/* The old driver runs and a reboot is pending: no spec for it now, the boot unit's then. */
	write_spec(fx, NODELESS_OF("550.54.15"));
	fx->f.nvidia.driver_version = (char *)"550.54.15";
	fx->pl->reboot = true;
	assert_int_equal(plan_cdi(fx->pl, &fx->p, &fx->f, &fx->res, fx->r), 0);
	assert_non_null(a = cdi_action(fx->pl));
	assert_string_equal(a->detail, "at boot");
	assert_non_null(strstr(a->reason, "next boot, for driver 570.133.20"));
}

static void test_plan_reboot_same_driver(void **state)
{
	struct fixture *fx = *state;
	const struct action *a;

	/* A kernel switch with the stack's driver loaded already: still the boot unit's, for the
	 * nodes the driver makes on the new kernel. */
	fx->pl->reboot = true;
	assert_int_equal(plan_cdi(fx->pl, &fx->p, &fx->f, &fx->res, fx->r), 0);
	assert_non_null(a = cdi_action(fx->pl));
	assert_string_equal(a->detail, "at boot");
}

static void test_plan_not_loaded(void **state)
{
	struct fixture *fx = *state;

	/* No reboot planned, the stack's driver not the one loaded: nothing to make it from. */
	fx->f.nvidia.driver_version = (char *)"550.54.15";
	assert_int_equal(plan_cdi(fx->pl, &fx->p, &fx->f, &fx->res, fx->r), 0);
	assert_null(cdi_action(fx->pl));
	fx->f.nvidia.driver_version = NULL;
	assert_int_equal(plan_cdi(fx->pl, &fx->p, &fx->f, &fx->res, fx->r), 0);
	assert_null(cdi_action(fx->pl));
}

static void test_plan_off(void **state)
{
	struct fixture *fx = *state;

	fx->p.container_cdi = false;
	assert_int_equal(plan_cdi(fx->pl, &fx->p, &fx->f, &fx->res, fx->r), 0);
	assert_null(cdi_action(fx->pl));
	fx->p.container_cdi = true;
	fx->p.container_toolkit = NULL;
	assert_int_equal(plan_cdi(fx->pl, &fx->p, &fx->f, &fx->res, fx->r), 0);
	assert_null(cdi_action(fx->pl));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test_setup_teardown(test_plan_converged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_reboot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_reboot_same_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_not_loaded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_off, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
