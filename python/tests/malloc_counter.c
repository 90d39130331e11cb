/* An LD_PRELOAD shim that counts heap allocations, for test_allocations.py. It forwards to
   glibc's own entry points, so it cannot recurse.

   Each allocation is attributed to the shared object its caller's code lies in (`dladdr` of the
   return address): ebm_test_allocations(name) counts those made from objects whose file name
   contains `name` ("" counts all), so that the library's own allocations can be told from the
   BLAS's. Counts are kept for up to MAX_OBJECTS objects, by file name.

   It also counts the threads libebm_swift creates (ebm_test_threads_created): its worker pool
   starts them once, never per call. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

#define MAX_OBJECTS 256
static struct {
    const char *file; /* the loader's string, valid while the object is loaded */
    long count;
} objects[MAX_OBJECTS];
static long unattributed = 0;
static int lock = 0;

static void count(void *caller) {
    Dl_info info;
    const char *file = dladdr(caller, &info) ? info.dli_fname : NULL;
    while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE)) {}
    int i = 0;
    while (i < MAX_OBJECTS && objects[i].file != NULL && objects[i].file != file) i++;
    if (file != NULL && i < MAX_OBJECTS) {
        objects[i].file = file;
        objects[i].count++;
    } else {
        unattributed++;
    }
    __atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

long ebm_test_allocations(const char *name) {
    long total = name == NULL || name[0] == 0 ? unattributed : 0;
    while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE)) {}
    for (int i = 0; i < MAX_OBJECTS && objects[i].file != NULL; i++)
        if (name == NULL || strstr(objects[i].file, name) != NULL) total += objects[i].count;
    __atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
    return total;
}

#define CALLER __builtin_return_address(0)
void *malloc(size_t n) { count(CALLER); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count(CALLER); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count(CALLER); return __libc_realloc(p, n); }
void *memalign(size_t align, size_t n) { count(CALLER); return __libc_memalign(align, n); }
void *aligned_alloc(size_t align, size_t n) { count(CALLER); return __libc_memalign(align, n); }
int posix_memalign(void **out, size_t align, size_t n) {
    count(CALLER);
    void *p = __libc_memalign(align, n);
    if (p == NULL) return ENOMEM;
    *out = p;
    return 0;
}

static long threads_created = 0;

long ebm_test_threads_created(void) { return __atomic_load_n(&threads_created, __ATOMIC_RELAXED); }

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg) {
    static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *) = NULL;
    if (real == NULL) *(void **)&real = dlsym(RTLD_NEXT, "pthread_create");
    Dl_info info;
    if (dladdr(CALLER, &info) && info.dli_fname != NULL && strstr(info.dli_fname, "libebm_swift") != NULL)
        __atomic_add_fetch(&threads_created, 1, __ATOMIC_RELAXED);
    return real(thread, attr, start, arg);
}
