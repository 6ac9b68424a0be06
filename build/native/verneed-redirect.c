/* Rewrites one entry of an ELF64 shared library's version-needed table (.gnu.version_r) so that
 * a requirement on a C++ runtime version the system lacks (GLIBCXX_3.4.32) names one it has
 * (GLIBCXX_3.4.30) instead. Used by fix-libtorchsharp.sh; see docs/native-loading.md.
 *
 *   verneed-redirect FILE LIBRARY FROM_VERSION TO_VERSION
 *
 * Exit codes: 0 patched, 3 nothing to do (FROM_VERSION not required), 1 error. */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned long elf_hash(const char *name) {
    unsigned long h = 0, g;
    while (*name) {
        h = (h << 4) + (unsigned char)*name++;
        if ((g = h & 0xf0000000)) h ^= g >> 24;
        h &= ~g;
    }
    return h;
}

static int fail(const char *file, const char *what) {
    fprintf(stderr, "verneed-redirect: %s: %s\n", file, what);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s FILE LIBRARY FROM_VERSION TO_VERSION\n", argv[0]);
        return 1;
    }
    const char *file = argv[1], *lib = argv[2], *from = argv[3], *to = argv[4];
    int fd = open(file, O_RDWR);
    if (fd < 0) return fail(file, "cannot open for writing");
    struct stat st;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(Elf64_Ehdr)) return fail(file, "too small to be ELF");
    size_t size = (size_t)st.st_size;
    unsigned char *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) return fail(file, "mmap failed");
    Elf64_Ehdr *eh = (Elf64_Ehdr *)base;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64)
        return fail(file, "not a 64-bit ELF file");
    if (eh->e_shoff == 0 || eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > size)
        return fail(file, "section headers out of bounds");
    Elf64_Shdr *sh = (Elf64_Shdr *)(base + eh->e_shoff);
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_GNU_verneed) continue;
        if (sh[i].sh_link >= eh->e_shnum) return fail(file, "bad sh_link on .gnu.version_r");
        Elf64_Shdr *strsec = &sh[sh[i].sh_link];
        if (strsec->sh_offset + strsec->sh_size > size || sh[i].sh_offset + sh[i].sh_size > size)
            return fail(file, "version sections out of bounds");
        const char *strtab = (const char *)(base + strsec->sh_offset);
        size_t strsize = strsec->sh_size;
        /* Find TO_VERSION's string: it must already be in .dynstr (we cannot grow the table). */
        long to_off = -1;
        for (size_t off = 0; off < strsize; off += strlen(strtab + off) + 1)
            if (strcmp(strtab + off, to) == 0) { to_off = (long)off; break; }
        size_t vn_off = sh[i].sh_offset;
        for (;;) {
            if (vn_off + sizeof(Elf64_Verneed) > size) return fail(file, "verneed entry out of bounds");
            Elf64_Verneed *vn = (Elf64_Verneed *)(base + vn_off);
            if (vn->vn_file < strsize && strcmp(strtab + vn->vn_file, lib) == 0) {
                size_t aux_off = vn_off + vn->vn_aux;
                for (int a = 0; a < vn->vn_cnt; a++) {
                    if (aux_off + sizeof(Elf64_Vernaux) > size) return fail(file, "vernaux out of bounds");
                    Elf64_Vernaux *aux = (Elf64_Vernaux *)(base + aux_off);
                    if (aux->vna_name < strsize && strcmp(strtab + aux->vna_name, from) == 0) {
                        if (to_off < 0) return fail(file, "replacement version string not in .dynstr");
                        aux->vna_name = (Elf64_Word)to_off;
                        aux->vna_hash = (Elf64_Word)elf_hash(to);
                        msync(base, size, MS_SYNC);
                        printf("verneed-redirect: %s: %s %s -> %s\n", file, lib, from, to);
                        return 0;
                    }
                    if (aux->vna_next == 0) break;
                    aux_off += aux->vna_next;
                }
            }
            if (vn->vn_next == 0) break;
            vn_off += vn->vn_next;
        }
        return 3;
    }
    return 3;
}
