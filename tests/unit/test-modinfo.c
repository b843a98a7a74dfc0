/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ELF .modinfo reader, on modules built here byte by byte: both classes, both byte
 * orders, and every way a truncated or hostile file can lie about its offsets. */
#include "unit.h"

#include <errno.h>

#include "host/facts.h"
#include "util/errors.h"

static const char modinfo[] = "version=550.54.15\0license=Dual MIT/GPL\0\0name=nvidia\0";
static const char shstrtab[] = "\0.modinfo\0.shstrtab\0";

struct elf {
	unsigned char buf[1024];
	size_t size;
	bool is64, be;
};

static void put(struct elf *e, size_t off, unsigned n, uint64_t v)
{
	for (unsigned i = 0; i < n; i++)
		e->buf[off + i] = (unsigned char)(v >> (e->be ? (n - 1 - i) * 8 : i * 8));
}

/* header | .modinfo | .shstrtab | section headers: null, .bss, .modinfo, .shstrtab.
 * .bss is NOBITS: 1 MiB in memory, nothing in the file, as compilers write it. */
static void build(struct elf *e, bool is64, bool be)
{
	size_t eh = is64 ? 64 : 52, sh = is64 ? 64 : 40;
	size_t mi = eh, ss = mi + sizeof(modinfo), sho = ss + sizeof(shstrtab);

	memset(e, 0, sizeof(*e));
	e->is64 = is64;
	e->be = be;
	memcpy(e->buf, "\177ELF", 4);
	e->buf[4] = is64 ? 2 : 1;
	e->buf[5] = be ? 2 : 1;
	memcpy(e->buf + mi, modinfo, sizeof(modinfo));
	memcpy(e->buf + ss, shstrtab, sizeof(shstrtab));
	if (is64) {
		put(e, 0x28, 8, sho);
		put(e, 0x3a, 2, sh);
		put(e, 0x3c, 2, 4);
		put(e, 0x3e, 2, 3);
		put(e, sho + sh + 24, 8, 0x1000); /* .bss (unnamed here) */
		put(e, sho + sh + 32, 8, 0x100000);
		put(e, sho + 2 * sh + 0, 4, 1); /* name: ".modinfo" */
		put(e, sho + 2 * sh + 24, 8, mi);
		put(e, sho + 2 * sh + 32, 8, sizeof(modinfo));
		put(e, sho + 3 * sh + 0, 4, 10); /* ".shstrtab" */
		put(e, sho + 3 * sh + 24, 8, ss);
		put(e, sho + 3 * sh + 32, 8, sizeof(shstrtab));
	} else {
		put(e, 0x20, 4, sho);
		put(e, 0x2e, 2, sh);
		put(e, 0x30, 2, 4);
		put(e, 0x32, 2, 3);
		put(e, sho + sh + 16, 4, 0x1000);
		put(e, sho + sh + 20, 4, 0x100000);
		put(e, sho + 2 * sh + 0, 4, 1);
		put(e, sho + 2 * sh + 16, 4, mi);
		put(e, sho + 2 * sh + 20, 4, sizeof(modinfo));
		put(e, sho + 3 * sh + 0, 4, 10);
		put(e, sho + 3 * sh + 16, 4, ss);
		put(e, sho + 3 * sh + 20, 4, sizeof(shstrtab));
	}
	e->size = sho + 4 * sh;
}

static void expect(const struct elf *e, const char *key, const char *want)
{
	char *v = NULL;

	assert_int_equal(modinfo_parse_elf(e->buf, e->size, key, &v), 0);
	assert_string_equal(v, want);
	free(v);
}

static void test_classes_and_byte_orders(void **state)
{
	struct elf e;

	for (int is64 = 0; is64 <= 1; is64++)
		for (int be = 0; be <= 1; be++) {
			char *v = NULL;

			build(&e, is64, be);
			expect(&e, "version", "550.54.15");
			expect(&e, "license", "Dual MIT/GPL");
			/* After the padding NUL, and a key that only starts like another. */
			expect(&e, "name", "nvidia");
			assert_int_equal(modinfo_parse_elf(e.buf, e.size, "vers", &v), -ENOENT);
			assert_int_equal(modinfo_parse_elf(e.buf, e.size, "parm", &v), -ENOENT);
			assert_null(v);
		}
}

static void test_malformed(void **state)
{
	struct elf e;
	char *v = NULL;

	build(&e, true, false);
	/* Every truncation is refused or answered, never read past. */
	for (size_t n = 0; n < e.size; n++) {
		int k = modinfo_parse_elf(e.buf, n, "version", &v);

		assert_true(k == -GPE_PARSE || k == -ENOENT || k == 0);
		free(v);
		v = NULL;
	}

	build(&e, true, false);
	e.buf[0] = 'X';
	assert_int_equal(modinfo_parse_elf(e.buf, e.size, "version", &v), -GPE_PARSE);

	build(&e, true, false);
	e.buf[4] = 3; /* no such class */
	assert_int_equal(modinfo_parse_elf(e.buf, e.size, "version", &v), -GPE_PARSE);

	build(&e, true, false);
	put(&e, 0x28, 8, UINT64_MAX - 10); /* section headers beyond the end */
	assert_int_equal(modinfo_parse_elf(e.buf, e.size, "version", &v), -GPE_PARSE);

	build(&e, true, false);
	put(&e, 0x3e, 2, 9); /* string table index out of range */
	assert_int_equal(modinfo_parse_elf(e.buf, e.size, "version", &v), -GPE_PARSE);

	build(&e, true, false);
	put(&e, 0x3a, 2, 8); /* entry size smaller than a section header */
	assert_int_equal(modinfo_parse_elf(e.buf, e.size, "version", &v), -GPE_PARSE);

	build(&e, true, false);
	put(&e, e.size - 2 * 64 + 24, 8, 4000); /* .modinfo's offset beyond the end */
	assert_int_equal(modinfo_parse_elf(e.buf, e.size, "version", &v), -GPE_PARSE);

	build(&e, true, false);
	put(&e, e.size - 2 * 64, 4, 999); /* section name beyond the string table */
	assert_int_equal(modinfo_parse_elf(e.buf, e.size, "version", &v), -GPE_PARSE);

	/* The string table ends in ".modinfo" with no NUL: no section is named ".modinfo". */
	build(&e, true, false);
	put(&e, e.size - 64 + 32, 8, 9); /* the table is "\0.modinfo" */
	put(&e, e.size - 64, 4, 0);      /* and names itself "" */
	assert_int_equal(modinfo_parse_elf(e.buf, e.size, "version", &v), -ENOENT);

	build(&e, true, false);
	put(&e, e.size - 2 * 64, 4, 10); /* no section is called .modinfo */
	assert_int_equal(modinfo_parse_elf(e.buf, e.size, "version", &v), -ENOENT);
	assert_null(v);
}

static void test_unterminated_value(void **state)
{
	struct elf e;
	char *v = NULL;

	/* .modinfo cut inside "version=550.54.15": the value ends where the section does. */
	build(&e, true, false);
	put(&e, e.size - 2 * 64 + 32, 8, 11);
	assert_int_equal(modinfo_parse_elf(e.buf, e.size, "version", &v), 0);
	assert_string_equal(v, "550");
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes_and_byte_orders),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_unterminated_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
