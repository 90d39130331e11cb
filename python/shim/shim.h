/*
 * The shim's shared declarations: the helpers every section uses (status codes to exceptions,
 * the poll callback, handles, array and record conversion) and each section's functions for the
 * method table in module.c. Each section is one .c file: errors.c (status codes, callable
 * energies, Ctrl-C and progress, handles, arrays), records.c (settings records), energies.c,
 * parameters.c, sampling.c, chains.c (persistent chains), training.c and module.c.
 *
 * Every function has the same shape: parse, convert arrays (float32, C-contiguous, aligned;
 * copied only when needed), release the GIL, call, check the status, return. Argument checking
 * that users see lives in the Python layer; the checks here only keep a direct caller from
 * handing the library a buffer of the wrong size. Status codes become exceptions in one place,
 * raise_status().
 */
#ifndef EBM_SWIFT_SHIM_H
#define EBM_SWIFT_SHIM_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL ebm_swift_shim_ARRAY_API
#ifndef EBM_SHIM_MODULE
#define NO_IMPORT_ARRAY /* import_array() runs once, in module.c */
#endif
#include <numpy/arrayobject.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "ebm_swift.h"

extern PyObject *DivergenceError;
extern const char *ENERGY_CAPSULE, *TRAINER_CAPSULE;

/* The context of an energy computed by Python: `fn(x, need_energy, need_grad)` returns
   (energies or None, gradient or None), already checked by the Python wrapper. The first
   exception it raises is kept here until the sampling call returns, then re-raised unchanged. */

typedef struct {
    PyObject *fn;
    PyObject *error_type, *error_value, *error_traceback;
} callable_ctx;

/* The poll callback's state: when it last ran, the progress callback, the callable energy. */
typedef struct {
    struct timespec last;
    PyObject *progress;      /* callable(fraction) or None */
    callable_ctx *callable;  /* the energy's, or NULL */
} poll_state;

/* A settings record built from a Python (kind, dict) pair, with everything it points at kept alive. */
#define MAX_SETTINGS 64

typedef struct {
    ebm_record record;
    ebm_setting settings[MAX_SETTINGS];
    PyObject *items;                     /* the dict's (name, value) pairs */
    PyArrayObject *arrays[MAX_SETTINGS]; /* the float64 arrays of array settings */
} record_storage;

/* Around a batch evaluation (energies, gradients, parameter gradients, jets, logits): the core
   polls Ctrl-C between chunks of rows through the calling thread's callback, set for the call. */
#define BEGIN_POLLED_CALL(capsule)                                        \
    {                                                                     \
        poll_state polled_;                                               \
        poll_init(&polled_, NULL, (capsule));                             \
        ebm_set_thread_poll(poll_signals, &polled_);                      \
        Py_BEGIN_ALLOW_THREADS
#define END_POLLED_CALL                                                   \
        Py_END_ALLOW_THREADS                                              \
        ebm_set_thread_poll(NULL, NULL);                                  \
    }

PyObject *raise_status(ebm_status status);
PyObject *raise_call_status(ebm_status status, PyObject *capsule);
void poll_init(poll_state *s, PyObject *progress, PyObject *capsule);
int32_t poll_signals(void *ctx, double progress);
int32_t call_python_energy(void *ctx_, const float *x, int64_t n, int64_t dim, float *energies,
                                  float *grad);
int restore_callable_error(PyObject *capsule);
PyObject *wrap_energy(ebm_status status, ebm_energy *out);
ebm_energy *energy_from(PyObject *capsule);
ebm_trainer *trainer_from(PyObject *capsule);
PyArrayObject *as_float32(PyObject *obj, int ndim, npy_intp cols, const char *name);
int copy_floats(PyObject *obj, float *out, npy_intp count, const char *what);
void keep_callback_error(int failed, PyObject **type, PyObject **value, PyObject **traceback);
int energy_dim(ebm_energy *e, npy_intp *dim);
void trainer_capsule_destroy(PyObject *capsule);
void energy_capsule_destroy(PyObject *capsule);
void record_clear(record_storage *r);
int record_from(PyObject *obj, const char *role, record_storage *r);
int check_state(PyArrayObject *x, npy_intp dim);

PyObject *py_mlp_create(PyObject *self, PyObject *args);
PyObject *py_network_create(PyObject *self, PyObject *args);
PyObject *py_energy_tensors(PyObject *self, PyObject *args);
PyObject *py_energy_num_classes(PyObject *self, PyObject *args);
PyObject *py_energy_logits(PyObject *self, PyObject *args);
PyObject *py_energy_class_create(PyObject *self, PyObject *args);
PyObject *py_gaussian_create(PyObject *self, PyObject *args);
PyObject *py_gaussian_mixture_create(PyObject *self, PyObject *args);
PyObject *py_double_well_create(PyObject *self, PyObject *args);
PyObject *py_banana_create(PyObject *self, PyObject *args);
PyObject *py_callable_create(PyObject *self, PyObject *args);
PyObject *py_energy_dim(PyObject *self, PyObject *args);
PyObject *py_energy_eval(PyObject *self, PyObject *args);
PyObject *py_energy_grad_x(PyObject *self, PyObject *args);
PyObject *py_energy_get_parameters(PyObject *self, PyObject *args);
PyObject *py_energy_set_parameters(PyObject *self, PyObject *args);
PyObject *py_energy_get_buffers(PyObject *self, PyObject *args);
PyObject *py_energy_set_buffers(PyObject *self, PyObject *args);
PyObject *py_energy_grad_params(PyObject *self, PyObject *args);
PyObject *py_energy_jet(PyObject *self, PyObject *args);
PyObject *py_sample(PyObject *self, PyObject *args);
PyObject *py_chains_create(PyObject *self, PyObject *args);
PyObject *py_chains_run(PyObject *self, PyObject *args);
PyObject *py_ais_log_z(PyObject *self, PyObject *args);
PyObject *py_ais_summarise(PyObject *self, PyObject *args);
PyObject *py_sampler_kinds(PyObject *self, PyObject *args);
PyObject *py_set_num_threads(PyObject *self, PyObject *args);
PyObject *py_get_num_threads(PyObject *self, PyObject *args);
PyObject *py_trainer_create(PyObject *self, PyObject *args);
PyObject *py_trainer_step(PyObject *self, PyObject *args);
PyObject *py_trainer_sample_negatives(PyObject *self, PyObject *args);
PyObject *py_trainer_state(PyObject *self, PyObject *args);
PyObject *py_trainer_get_state(PyObject *self, PyObject *args);
PyObject *py_trainer_set_state(PyObject *self, PyObject *args);
PyObject *py_version(PyObject *self, PyObject *args);
PyObject *py_runtime_info(PyObject *self, PyObject *args);

#endif /* EBM_SWIFT_SHIM_H */
