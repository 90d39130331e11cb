/*
 * ebm_swift._cpu — what this x86-64 CPU (and its operating system) can execute, read before the
 * native core is loaded so that the loader can pick the build of the core for this CPU.
 * `__builtin_cpu_supports` reads cpuid and, for AVX and AVX-512, XCR0 (the OS saves the registers).
 * On other architectures the dictionary is empty.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *py_features(PyObject *self, PyObject *args) {
    PyObject *out = PyDict_New();
    if (out == NULL) return NULL;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    const struct {
        const char *name;
        int present;
    } features[] = {
        {"sse4.2", __builtin_cpu_supports("sse4.2")},
        {"avx", __builtin_cpu_supports("avx")},
        {"avx2", __builtin_cpu_supports("avx2")},
        {"fma", __builtin_cpu_supports("fma")},
        {"avx512f", __builtin_cpu_supports("avx512f")},
        {"x86-64-v2", __builtin_cpu_supports("x86-64-v2")},
        {"x86-64-v3", __builtin_cpu_supports("x86-64-v3")},
        {"x86-64-v4", __builtin_cpu_supports("x86-64-v4")},
    };
    for (size_t i = 0; i < sizeof features / sizeof features[0]; i++) {
        if (PyDict_SetItemString(out, features[i].name, features[i].present ? Py_True : Py_False) < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
#endif
    return out;
}

static PyMethodDef methods[] = {
    {"features", py_features, METH_NOARGS, "{feature name: bool} for this x86-64 CPU; {} elsewhere."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_cpu", "Private: CPU features for choosing the build of the native core.", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__cpu(void) { return PyModule_Create(&module); }
