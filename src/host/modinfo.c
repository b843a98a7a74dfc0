/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The .modinfo section of an uncompressed kernel module, read straight from the ELF file.
 *
 * libkmod finds the module (modules.dep decides which nvidia.ko a kernel loads) and reads
 * compressed ones. For a plain .ko this reader gets the two keys detect needs without
 * libkmod's kmod_module_get_info(), which also decodes the module's PKCS#7 signature with
 * OpenSSL: on a DGX that decode was 2 MiB of the process's peak memory, for facts detect
 * does not report. Layout: the System V ABI, "ELF header" and "Sections".
 */
#include <errno.h>
#include <sys/mman.h>

#include "facts.h"
#include "util/errors.h"

#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ELFDATA2MSB 2

/* Kernel modules are a few MiB (nvidia.ko ~100 MiB uncompressed); more is not a module. */
#define MODULE_MAX ((size_t)1 << 30)

struct elf_view {
	const unsigned char *data;
	size_t size;
	bool is64, big_endian;
};

/* Reads an n-byte unsigned integer at off, in the file's byte order; 0 when out of range. */
static bool elf_uint(const struct elf_view *e, size_t off, unsigned n, uint64_t *ret)
{
	uint64_t v = 0;

	if (off > e->size || n > e->size - off)
		return false;
	for (unsigned i = 0; i < n; i++) {
		unsigned shift = e->big_endian ? (n - 1 - i) * 8 : i * 8;

		v |= (uint64_t)e->data[off + i] << shift;
	}
	*ret = v;
	return true;
}

/* A section's name offset, file offset and size, from its header (32- and 64-bit layouts
 * differ). Only read: whether they lie inside the file is for the caller to check, since a
 * NOBITS section (.bss) has a size that is not in the file at all. */
static bool elf_section(const struct elf_view *e, uint64_t shoff, uint64_t shentsize, uint64_t idx,
			uint64_t *ret_name, uint64_t *ret_off, uint64_t *ret_size)
{
	uint64_t base = shoff + idx * shentsize;

	if (e->is64)
		return elf_uint(e, base, 4, ret_name) && elf_uint(e, base + 24, 8, ret_off) &&
		       elf_uint(e, base + 32, 8, ret_size);
	return elf_uint(e, base, 4, ret_name) && elf_uint(e, base + 16, 4, ret_off) &&
	       elf_uint(e, base + 20, 4, ret_size);
}

static bool in_file(const struct elf_view *e, uint64_t off, uint64_t size)
{
	return off <= e->size && size <= e->size - off;
}

int modinfo_parse_elf(const void *data, size_t size, const char *key, char **ret)
{
	struct elf_view e = { .data = data, .size = size };
	uint64_t shoff, shentsize, shnum, shstrndx, name, off, len, str_off, str_size;
	size_t keylen = strlen(key);

	if (size < 64 || memcmp(data, "\177ELF", 4) != 0)
		return -GPE_PARSE;
	if ((e.data[EI_CLASS] != ELFCLASS32 && e.data[EI_CLASS] != ELFCLASS64) ||
	    (e.data[EI_DATA] != ELFDATA2LSB && e.data[EI_DATA] != ELFDATA2MSB))
		return -GPE_PARSE;
	e.is64 = e.data[EI_CLASS] == ELFCLASS64;
	e.big_endian = e.data[EI_DATA] == ELFDATA2MSB;

	if (e.is64) {
		if (!elf_uint(&e, 0x28, 8, &shoff) || !elf_uint(&e, 0x3a, 2, &shentsize) ||
		    !elf_uint(&e, 0x3c, 2, &shnum) || !elf_uint(&e, 0x3e, 2, &shstrndx))
			return -GPE_PARSE;
		if (shentsize < 64)
			return -GPE_PARSE;
	} else {
		if (!elf_uint(&e, 0x20, 4, &shoff) || !elf_uint(&e, 0x2e, 2, &shentsize) ||
		    !elf_uint(&e, 0x30, 2, &shnum) || !elf_uint(&e, 0x32, 2, &shstrndx))
			return -GPE_PARSE;
		if (shentsize < 40)
			return -GPE_PARSE;
	}
	if (shoff > size || shstrndx >= shnum || shnum > (size - shoff) / shentsize)
		return -GPE_PARSE;
	if (!elf_section(&e, shoff, shentsize, shstrndx, &name, &str_off, &str_size) ||
	    !in_file(&e, str_off, str_size))
		return -GPE_PARSE;

	for (uint64_t i = 1; i < shnum; i++) {
		static const char wanted[] = ".modinfo"; /* compared with its NUL */
		const char *p, *end;

		if (!elf_section(&e, shoff, shentsize, i, &name, &off, &len) || name >= str_size)
			return -GPE_PARSE;
		if (str_size - name < sizeof(wanted) ||
		    memcmp(e.data + str_off + name, wanted, sizeof(wanted)) != 0)
			continue;
		if (!in_file(&e, off, len))
			return -GPE_PARSE;

		/* NUL-separated "key=value" strings, padded with NULs. */
		p = (const char *)e.data + off;
		end = p + len;
		while (p < end) {
			size_t n = strnlen(p, (size_t)(end - p));

			if (n > keylen && strncmp(p, key, keylen) == 0 && p[keylen] == '=') {
				*ret = strndup(p + keylen + 1, n - keylen - 1);
				return *ret ? 0 : -ENOMEM;
			}
			p += n + 1;
		}
		return -ENOENT;
	}
	return -ENOENT;
}

/* scripts/sign-file appends the signature and ends the file with this marker. */
static const char sig_marker[] = "~Module signature appended~\n";

int modinfo_read(int fd, const char *const *keys, char **values, bool *ret_signed)
{
	struct stat st;
	size_t i;
	void *map;
	int k = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size < 64 || (size_t)st.st_size > MODULE_MAX)
		return -GPE_PARSE;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	for (i = 0; keys[i]; i++) {
		k = modinfo_parse_elf(map, (size_t)st.st_size, keys[i], &values[i]);
		if (k == -ENOENT) {
			values[i] = NULL;
			k = 0;
		}
		if (k < 0)
			break;
	}
	*ret_signed = (size_t)st.st_size > sizeof(sig_marker) &&
		      memcmp((const char *)map + st.st_size - (sizeof(sig_marker) - 1), sig_marker,
			     sizeof(sig_marker) - 1) == 0;
	munmap(map, (size_t)st.st_size);
	if (k < 0)
		while (i-- > 0)
			values[i] = mfree(values[i]);
	return k;
}
