/*
 * ebm_swift._native — the thin CPython shim between NumPy arrays and libebm_swift's C ABI.
 *
 * Every function has the same shape: parse, convert arrays (float32, C-contiguous, aligned;
 * copied only when needed), release the GIL, call, check the status, return. Argument checking
 * that users see lives in the Python layer; the checks here only keep a direct caller from
 * handing the library a buffer of the wrong size. Status codes become exceptions in one place,
 * raise_status().
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "ebm_swift.h"

static PyObject *DivergenceError = NULL;

static const char *ENERGY_CAPSULE = "ebm_swift.energy";
static const char *TRAINER_CAPSULE = "ebm_swift.trainer";

/* ---- status codes -> exceptions (the one place) ---------------------------------------------- */

/* Sets exc.name = value, consuming the reference to value (which may be NULL after a failure). */
static int set_attribute(PyObject *exc, const char *name, PyObject *value) {
    int rc = value == NULL ? -1 : PyObject_SetAttrString(exc, name, value);
    Py_XDECREF(value);
    return rc;
}

/* A DivergenceError carrying the library's structured report as attributes: site, quantity,
   step (0 where none applies) and chain (None when not one chain's). */
static void raise_divergence(void) {
    ebm_divergence d;
    PyObject *exc;
    ebm_last_divergence(&d);
    if ((exc = PyObject_CallFunction(DivergenceError, "s", ebm_last_error())) == NULL) return;
    if (set_attribute(exc, "site", PyUnicode_FromString(d.site)) == 0 &&
        set_attribute(exc, "quantity", PyUnicode_FromString(d.quantity)) == 0 &&
        set_attribute(exc, "step", PyLong_FromLongLong(d.step)) == 0 &&
        set_attribute(exc, "chain", d.chain < 0 ? Py_NewRef(Py_None) : PyLong_FromLongLong(d.chain)) == 0)
        PyErr_SetObject(DivergenceError, exc);
    Py_DECREF(exc);
}

static PyObject *raise_status(ebm_status status) {
    switch (status) {
    case EBM_ERR_INVALID_ARGUMENT:
        PyErr_SetString(PyExc_ValueError, ebm_last_error());
        break;
    case EBM_ERR_DIVERGED:
        raise_divergence();
        break;
    case EBM_ERR_INTERRUPTED:
        /* The call stopped for Ctrl-C (poll_signals re-armed SIGINT) or a failing progress
           callback (its exception is set). Its locks are released now: the signal handlers run
           here, the SIGINT one raising KeyboardInterrupt (or the user's running); if none
           raised, KeyboardInterrupt, since the call did stop. */
        if (!PyErr_Occurred() && PyErr_CheckSignals() == 0) PyErr_SetNone(PyExc_KeyboardInterrupt);
        break;
    default:
        PyErr_Format(PyExc_RuntimeError, "ebm_swift internal error (status %d): %s", (int)status,
                     ebm_last_error());
    }
    return NULL;
}

/* ---- callable energies ---------------------------------------------------------------------- */

/* The context of an energy computed by Python: `fn(x, need_energy, need_grad)` returns
   (energies or None, gradient or None), already checked by the Python wrapper. The first
   exception it raises is kept here until the sampling call returns, then re-raised unchanged. */
typedef struct {
    PyObject *fn;
    PyObject *error_type, *error_value, *error_traceback;
} callable_ctx;

static int copy_result(PyObject *obj, float *out, npy_intp count) {
    PyArrayObject *a = (PyArrayObject *)PyArray_FROM_OTF(obj, NPY_FLOAT32, NPY_ARRAY_IN_ARRAY);
    if (a == NULL) return -1;
    if (PyArray_SIZE(a) != count) {
        PyErr_Format(PyExc_ValueError, "callable energy returned %zd values, expected %zd",
                     (Py_ssize_t)PyArray_SIZE(a), (Py_ssize_t)count);
        Py_DECREF(a);
        return -1;
    }
    memcpy(out, PyArray_DATA(a), (size_t)count * sizeof(float));
    Py_DECREF(a);
    return 0;
}

/* ebm_energy_fn: called by the library (GIL released) once per step for the whole batch. */
static int32_t call_python_energy(void *ctx_, const float *x, int64_t n, int64_t dim, float *energies,
                                  float *grad) {
    callable_ctx *ctx = (callable_ctx *)ctx_;
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *xa = NULL, *result = NULL;
    npy_intp dims[2] = {(npy_intp)n, (npy_intp)dim};
    int32_t rc = -1;
    if (ctx->error_type != NULL) goto fail; /* an earlier call failed: stop evaluating */
    xa = PyArray_SimpleNew(2, dims, NPY_FLOAT32); /* a copy: the caller may keep it */
    if (xa == NULL) goto fail;
    memcpy(PyArray_DATA((PyArrayObject *)xa), x, (size_t)(n * dim) * sizeof(float));
    result = PyObject_CallFunction(ctx->fn, "OOO", xa, energies ? Py_True : Py_False, grad ? Py_True : Py_False);
    if (result == NULL) goto fail;
    if (!PyTuple_Check(result) || PyTuple_GET_SIZE(result) != 2) {
        PyErr_SetString(PyExc_TypeError, "callable energy wrapper must return a pair");
        goto fail;
    }
    if (energies && copy_result(PyTuple_GET_ITEM(result, 0), energies, dims[0]) < 0) goto fail;
    if (grad && copy_result(PyTuple_GET_ITEM(result, 1), grad, dims[0] * dims[1]) < 0) goto fail;
    rc = 0;
fail:
    if (rc != 0 && PyErr_Occurred() && ctx->error_type == NULL)
        PyErr_Fetch(&ctx->error_type, &ctx->error_value, &ctx->error_traceback);
    PyErr_Clear();
    Py_XDECREF(xa);
    Py_XDECREF(result);
    PyGILState_Release(gil);
    return rc;
}

/* Re-raises (and forgets) the exception a callable energy raised during the last call, if any. */
static int restore_callable_error(PyObject *capsule) {
    callable_ctx *ctx = (callable_ctx *)PyCapsule_GetContext(capsule);
    if (ctx == NULL || ctx->error_type == NULL) return 0;
    PyErr_Restore(ctx->error_type, ctx->error_value, ctx->error_traceback);
    ctx->error_type = ctx->error_value = ctx->error_traceback = NULL;
    return 1;
}

/* ---- Ctrl-C and progress: the poll callback of long calls ---------------------------------- */

typedef struct {
    struct timespec last;
    PyObject *progress;      /* callable(fraction) or None */
    callable_ctx *callable;  /* the energy's, or NULL */
} poll_state;

static void poll_init(poll_state *s, PyObject *progress, PyObject *capsule) {
    clock_gettime(CLOCK_MONOTONIC, &s->last);
    s->progress = progress;
    s->callable = capsule ? (callable_ctx *)PyCapsule_GetContext(capsule) : NULL;
    PyErr_Clear(); /* PyCapsule_GetContext of a capsule without context is not an error */
}

/* Called by the library about once per step with the GIL released, while the call holds the
   model's or trainer's lock. Every 50 ms it takes the GIL, looks for Ctrl-C and reports progress; a
   non-zero return stops the call. It runs no signal handler: a handler that touched the model or
   the trainer here would wait on the lock this very call holds. A SIGINT is noted (and re-armed
   with PyErr_SetInterrupt), and its handler runs when the call has returned and released its
   locks (raise_status); other signals' handlers run when the interpreter resumes. */
static int32_t poll_signals(void *ctx, double progress) {
    poll_state *s = (poll_state *)ctx;
    struct timespec now;
    int stop = 0;
    if (s->callable != NULL && s->callable->error_type != NULL) return 1;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double elapsed = (double)(now.tv_sec - s->last.tv_sec) + 1e-9 * (double)(now.tv_nsec - s->last.tv_nsec);
    if (elapsed < 0.05) return 0;
    s->last = now;
    PyGILState_STATE gil = PyGILState_Ensure();
    if (PyOS_InterruptOccurred()) {
        PyErr_SetInterrupt();
        stop = 1;
    }
    if (!stop && s->progress != NULL && s->progress != Py_None) {
        PyObject *r = PyObject_CallFunction(s->progress, "d", progress);
        if (r == NULL) stop = 1;
        Py_XDECREF(r);
    }
    PyGILState_Release(gil);
    return stop;
}

/* Maps a failed status to an exception, preferring a callable energy's own exception. */
static PyObject *raise_call_status(ebm_status status, PyObject *capsule) {
    callable_ctx *ctx;
    if (status == EBM_ERR_INTERRUPTED &&
        !((ctx = (callable_ctx *)PyCapsule_GetContext(capsule)) && ctx->error_type))
        return raise_status(status); /* Ctrl-C or a failing progress callback */
    ctx = (callable_ctx *)PyCapsule_GetContext(capsule);
    PyErr_Clear();
    if (ctx != NULL && ctx->error_type != NULL) {
        restore_callable_error(capsule);
        return NULL;
    }
    return raise_status(status);
}

/* ---- handles ---------------------------------------------------------------------------------- */

static void energy_capsule_destroy(PyObject *capsule) {
    callable_ctx *ctx = (callable_ctx *)PyCapsule_GetContext(capsule);
    ebm_energy_destroy((ebm_energy *)PyCapsule_GetPointer(capsule, ENERGY_CAPSULE));
    if (ctx != NULL) {
        Py_XDECREF(ctx->fn);
        Py_XDECREF(ctx->error_type);
        Py_XDECREF(ctx->error_value);
        Py_XDECREF(ctx->error_traceback);
        PyMem_Free(ctx);
    }
}

static void trainer_capsule_destroy(PyObject *capsule) {
    ebm_trainer_destroy((ebm_trainer *)PyCapsule_GetPointer(capsule, TRAINER_CAPSULE));
}

/* A new energy handle as a capsule that destroys it, or NULL with the status's exception. */
static PyObject *wrap_energy(ebm_status status, ebm_energy *out) {
    PyObject *capsule;
    if (status != EBM_OK) return raise_status(status);
    capsule = PyCapsule_New(out, ENERGY_CAPSULE, energy_capsule_destroy);
    if (capsule == NULL) ebm_energy_destroy(out);
    return capsule;
}

static ebm_energy *energy_from(PyObject *capsule) {
    return (ebm_energy *)PyCapsule_GetPointer(capsule, ENERGY_CAPSULE);
}

static ebm_trainer *trainer_from(PyObject *capsule) {
    return (ebm_trainer *)PyCapsule_GetPointer(capsule, TRAINER_CAPSULE);
}

/* ---- array conversion ------------------------------------------------------------------------- */

/* A float32 C-contiguous view or copy of obj with `ndim` dimensions and, if cols >= 0, that many
   columns. New reference, or NULL with an exception set. */
static PyArrayObject *as_float32(PyObject *obj, int ndim, npy_intp cols, const char *name) {
    PyArrayObject *a = (PyArrayObject *)PyArray_FROM_OTF(obj, NPY_FLOAT32, NPY_ARRAY_IN_ARRAY);
    if (a == NULL) return NULL;
    if (PyArray_NDIM(a) != ndim || PyArray_SIZE(a) == 0 ||
        (cols >= 0 && PyArray_DIM(a, ndim - 1) != cols)) {
        PyErr_Format(PyExc_ValueError, "%s: expected a non-empty %d-d array%s, got shape of %d dims",
                     name, ndim, cols >= 0 ? " with matching columns" : "", PyArray_NDIM(a));
        Py_DECREF(a);
        return NULL;
    }
    return a;
}

static int energy_dim(ebm_energy *e, npy_intp *dim) {
    int64_t d = 0;
    ebm_status status = ebm_energy_dim(e, &d);
    if (status != EBM_OK) {
        raise_status(status);
        return -1;
    }
    *dim = (npy_intp)d;
    return 0;
}

/* ---- energies --------------------------------------------------------------------------------- */

static PyObject *py_mlp_create(PyObject *self, PyObject *args) {
    long long dim, activation;
    unsigned long long seed;
    PyObject *hidden_obj, *capsule = NULL;
    PyArrayObject *hidden = NULL;
    ebm_energy *out = NULL;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "LOLK", &dim, &hidden_obj, &activation, &seed)) return NULL;
    hidden = (PyArrayObject *)PyArray_FROM_OTF(hidden_obj, NPY_INT64, NPY_ARRAY_IN_ARRAY);
    if (hidden == NULL) goto fail;
    if (PyArray_NDIM(hidden) != 1) {
        PyErr_SetString(PyExc_ValueError, "hidden: expected a 1-d sequence of widths");
        goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    status = ebm_mlp_create(dim, (const int64_t *)PyArray_DATA(hidden), PyArray_DIM(hidden, 0),
                            (int32_t)activation, seed, &out);
    Py_END_ALLOW_THREADS
    capsule = wrap_energy(status, out);
fail:
    Py_XDECREF(hidden);
    return capsule;
}

/* Reads the integer field `name` of a layer record (a dict; absent means 0). */
static int layer_int(PyObject *record, const char *name, int64_t *out) {
    PyObject *value = PyDict_GetItemString(record, name); /* borrowed */
    *out = 0;
    if (value == NULL) return 0;
    *out = (int64_t)PyLong_AsLongLong(value);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

/* Reads the float field `name` of a layer record (absent means 0). */
static int layer_double(PyObject *record, const char *name, double *out) {
    PyObject *value = PyDict_GetItemString(record, name); /* borrowed */
    *out = 0;
    if (value == NULL) return 0;
    *out = PyFloat_AsDouble(value);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

/* Fills an ebm_layer from a record {"kind": …, "activation": …, "in_features": …,
   "out_features": …, "kernel": (h, w), "stride": (h, w), "padding": (h, w), "negative_slope": …,
   "children": …, "n_power_iterations": …, "eps": …} built by ebm_swift.nn (the field names are the struct's). */
static int layer_from_record(PyObject *record, ebm_layer *layer) {
    static const char *pairs[3] = {"kernel", "stride", "padding"};
    int64_t value;
    memset(layer, 0, sizeof *layer);
    if (!PyDict_Check(record)) {
        PyErr_SetString(PyExc_TypeError, "layers: expected a list of dicts");
        return -1;
    }
    if (layer_int(record, "kind", &value) < 0) return -1;
    layer->kind = (int32_t)value;
    if (layer_int(record, "activation", &value) < 0) return -1;
    layer->activation = (int32_t)value;
    if (layer_int(record, "in_features", &layer->in_features) < 0 ||
        layer_int(record, "out_features", &layer->out_features) < 0 ||
        layer_int(record, "children", &layer->children) < 0 ||
        layer_int(record, "n_power_iterations", &layer->n_power_iterations) < 0)
        return -1;
    for (int p = 0; p < 3; p++) {
        int64_t *target = p == 0 ? layer->kernel : p == 1 ? layer->stride : layer->padding;
        PyObject *pair = PyDict_GetItemString(record, pairs[p]); /* borrowed */
        if (pair == NULL) continue;
        if (!PyArg_ParseTuple(pair, "LL", (long long *)&target[0], (long long *)&target[1])) return -1;
    }
    if (layer_double(record, "negative_slope", &layer->negative_slope) < 0 ||
        layer_double(record, "eps", &layer->eps) < 0)
        return -1;
    return 0;
}

static PyObject *py_network_create(PyObject *self, PyObject *args) {
    unsigned long long seed;
    PyObject *shape_obj, *records, *capsule = NULL;
    PyArrayObject *shape = NULL;
    ebm_layer *layers = NULL;
    ebm_energy *out = NULL;
    ebm_status status;
    Py_ssize_t n;
    long long n_classes;
    if (!PyArg_ParseTuple(args, "OO!LK", &shape_obj, &PyList_Type, &records, &n_classes, &seed)) return NULL;
    if ((shape = (PyArrayObject *)PyArray_FROM_OTF(shape_obj, NPY_INT64, NPY_ARRAY_IN_ARRAY)) == NULL) goto fail;
    n = PyList_GET_SIZE(records);
    if ((layers = PyMem_Calloc(n > 0 ? (size_t)n : 1, sizeof *layers)) == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (layer_from_record(PyList_GET_ITEM(records, i), &layers[i]) < 0) goto fail;
    Py_BEGIN_ALLOW_THREADS
    status = ebm_network_create((const int64_t *)PyArray_DATA(shape), PyArray_SIZE(shape), layers, n, n_classes, seed,
                                &out);
    Py_END_ALLOW_THREADS
    capsule = wrap_energy(status, out);
fail:
    Py_XDECREF(shape);
    PyMem_Free(layers);
    return capsule;
}

/* energy_num_classes(energy) -> int (0: not a classifier) */
static PyObject *py_energy_num_classes(PyObject *self, PyObject *args) {
    PyObject *capsule;
    ebm_energy *e;
    int64_t k = 0;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "O", &capsule) || (e = energy_from(capsule)) == NULL) return NULL;
    if ((status = ebm_energy_num_classes(e, &k)) != EBM_OK) return raise_status(status);
    return PyLong_FromLongLong(k);
}

/* energy_logits(energy, x) -> float32 (n, classes) */
static PyObject *py_energy_logits(PyObject *self, PyObject *args) {
    PyObject *capsule, *x_obj, *result = NULL;
    PyArrayObject *x = NULL, *logits = NULL;
    ebm_energy *e;
    npy_intp dim, shape[2];
    int64_t k = 0;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OO", &capsule, &x_obj)) return NULL;
    if ((e = energy_from(capsule)) == NULL || energy_dim(e, &dim) < 0) return NULL;
    if ((status = ebm_energy_num_classes(e, &k)) != EBM_OK) return raise_status(status);
    if ((x = as_float32(x_obj, 2, dim, "x")) == NULL) goto fail;
    shape[0] = PyArray_DIM(x, 0);
    shape[1] = (npy_intp)k;
    if ((logits = (PyArrayObject *)PyArray_SimpleNew(2, shape, NPY_FLOAT32)) == NULL) goto fail;
    Py_BEGIN_ALLOW_THREADS
    status = ebm_energy_logits(e, (const float *)PyArray_DATA(x), shape[0], (float *)PyArray_DATA(logits),
                               (int64_t)shape[0] * k);
    Py_END_ALLOW_THREADS
    if (status != EBM_OK) {
        raise_status(status);
        goto fail;
    }
    result = Py_NewRef((PyObject *)logits);
fail:
    Py_XDECREF(x);
    Py_XDECREF(logits);
    return result;
}

/* energy_class_create(energy, label) -> the class-conditional energy's capsule */
static PyObject *py_energy_class_create(PyObject *self, PyObject *args) {
    PyObject *capsule;
    ebm_energy *e, *out = NULL;
    long long label;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OL", &capsule, &label) || (e = energy_from(capsule)) == NULL) return NULL;
    status = ebm_energy_class_create(e, label, &out);
    return wrap_energy(status, out);
}

static PyObject *py_gaussian_create(PyObject *self, PyObject *args) {
    PyObject *mean_obj, *cov_obj, *capsule = NULL;
    PyArrayObject *mean = NULL, *cov = NULL;
    ebm_energy *out = NULL;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OO", &mean_obj, &cov_obj)) return NULL;
    mean = (PyArrayObject *)PyArray_FROM_OTF(mean_obj, NPY_FLOAT64, NPY_ARRAY_IN_ARRAY);
    cov = (PyArrayObject *)PyArray_FROM_OTF(cov_obj, NPY_FLOAT64, NPY_ARRAY_IN_ARRAY);
    if (mean == NULL || cov == NULL) goto fail;
    if (PyArray_NDIM(mean) != 1 || PyArray_DIM(mean, 0) < 1 || PyArray_NDIM(cov) != 2 ||
        PyArray_DIM(cov, 0) != PyArray_DIM(mean, 0) || PyArray_DIM(cov, 1) != PyArray_DIM(mean, 0)) {
        PyErr_SetString(PyExc_ValueError, "mean must be (d,) and cov (d, d)");
        goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    status = ebm_gaussian_create(PyArray_DIM(mean, 0), (const double *)PyArray_DATA(mean),
                                 (const double *)PyArray_DATA(cov), &out);
    Py_END_ALLOW_THREADS
    capsule = wrap_energy(status, out);
fail:
    Py_XDECREF(mean);
    Py_XDECREF(cov);
    return capsule;
}

static PyObject *py_gaussian_mixture_create(PyObject *self, PyObject *args) {
    PyObject *means_obj, *covs_obj, *weights_obj, *capsule = NULL;
    PyArrayObject *means = NULL, *covs = NULL, *weights = NULL;
    ebm_energy *out = NULL;
    npy_intp k, d;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OOO", &means_obj, &covs_obj, &weights_obj)) return NULL;
    means = (PyArrayObject *)PyArray_FROM_OTF(means_obj, NPY_FLOAT64, NPY_ARRAY_IN_ARRAY);
    covs = (PyArrayObject *)PyArray_FROM_OTF(covs_obj, NPY_FLOAT64, NPY_ARRAY_IN_ARRAY);
    weights = (PyArrayObject *)PyArray_FROM_OTF(weights_obj, NPY_FLOAT64, NPY_ARRAY_IN_ARRAY);
    if (means == NULL || covs == NULL || weights == NULL) goto fail;
    if (PyArray_NDIM(means) != 2 || PyArray_NDIM(covs) != 3 || PyArray_NDIM(weights) != 1 ||
        (k = PyArray_DIM(means, 0)) < 1 || (d = PyArray_DIM(means, 1)) < 1 || PyArray_DIM(weights, 0) != k ||
        PyArray_DIM(covs, 0) != k || PyArray_DIM(covs, 1) != d || PyArray_DIM(covs, 2) != d) {
        PyErr_SetString(PyExc_ValueError, "means must be (k, d), covs (k, d, d) and weights (k,)");
        goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    status = ebm_gaussian_mixture_create(d, k, (const double *)PyArray_DATA(means), (const double *)PyArray_DATA(covs),
                                         (const double *)PyArray_DATA(weights), &out);
    Py_END_ALLOW_THREADS
    capsule = wrap_energy(status, out);
fail:
    Py_XDECREF(means);
    Py_XDECREF(covs);
    Py_XDECREF(weights);
    return capsule;
}

static PyObject *py_double_well_create(PyObject *self, PyObject *args) {
    long long dim;
    double barrier;
    ebm_energy *out = NULL;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "Ld", &dim, &barrier)) return NULL;
    status = ebm_double_well_create(dim, barrier, &out);
    return wrap_energy(status, out);
}

static PyObject *py_banana_create(PyObject *self, PyObject *args) {
    long long dim;
    double curvature, scale;
    ebm_energy *out = NULL;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "Ldd", &dim, &curvature, &scale)) return NULL;
    status = ebm_banana_create(dim, curvature, scale, &out);
    return wrap_energy(status, out);
}

/* callable_create(dim, fn): fn(x, need_energy, need_grad) -> (energies | None, grad | None). */
static PyObject *py_callable_create(PyObject *self, PyObject *args) {
    long long dim;
    PyObject *fn, *capsule;
    callable_ctx *ctx;
    ebm_energy *out = NULL;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "LO", &dim, &fn)) return NULL;
    if ((ctx = (callable_ctx *)PyMem_Calloc(1, sizeof(callable_ctx))) == NULL) return PyErr_NoMemory();
    ctx->fn = Py_NewRef(fn);
    status = ebm_callable_create(dim, call_python_energy, ctx, &out);
    capsule = wrap_energy(status, out);
    if (capsule == NULL || PyCapsule_SetContext(capsule, ctx) < 0) {
        Py_XDECREF(capsule); /* destroys the handle (if any) before ctx is freed */
        Py_DECREF(ctx->fn);
        PyMem_Free(ctx);
        return NULL;
    }
    return capsule;
}

static PyObject *py_energy_dim(PyObject *self, PyObject *args) {
    PyObject *capsule;
    ebm_energy *e;
    npy_intp dim;
    if (!PyArg_ParseTuple(args, "O", &capsule)) return NULL;
    if ((e = energy_from(capsule)) == NULL || energy_dim(e, &dim) < 0) return NULL;
    return PyLong_FromSsize_t(dim);
}

/* energy_eval(handle, x) -> (n,) energies; energy_grad_x(handle, x) -> ((n,), (n, dim)). */
static PyObject *evaluate(PyObject *args, int with_gradient) {
    PyObject *capsule, *x_obj, *result = NULL;
    PyArrayObject *x = NULL, *energies = NULL, *grad = NULL;
    ebm_energy *e;
    npy_intp dim, n;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OO", &capsule, &x_obj)) return NULL;
    if ((e = energy_from(capsule)) == NULL || energy_dim(e, &dim) < 0) return NULL;
    if ((x = as_float32(x_obj, 2, dim, "x")) == NULL) goto fail;
    n = PyArray_DIM(x, 0);
    energies = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_FLOAT32);
    if (energies == NULL) goto fail;
    if (with_gradient) {
        grad = (PyArrayObject *)PyArray_SimpleNew(2, PyArray_DIMS(x), NPY_FLOAT32);
        if (grad == NULL) goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    if (with_gradient)
        status = ebm_energy_grad_x(e, (const float *)PyArray_DATA(x), n,
                                   (float *)PyArray_DATA(energies), (float *)PyArray_DATA(grad));
    else
        status = ebm_energy_eval(e, (const float *)PyArray_DATA(x), n,
                                 (float *)PyArray_DATA(energies));
    Py_END_ALLOW_THREADS
    if (restore_callable_error(capsule)) goto fail; /* a callable energy's own exception, raised now */
    if (status != EBM_OK) {
        raise_status(status);
        goto fail;
    }
    result = with_gradient ? PyTuple_Pack(2, energies, grad) : (Py_INCREF(energies), (PyObject *)energies);
fail:
    Py_XDECREF(x);
    Py_XDECREF(energies);
    Py_XDECREF(grad);
    return result;
}

static PyObject *py_energy_eval(PyObject *self, PyObject *args) { return evaluate(args, 0); }
static PyObject *py_energy_grad_x(PyObject *self, PyObject *args) { return evaluate(args, 1); }

/* ---- parameters of trainable energies ----------------------------------------------------- */

/* A trainable energy's flat parameter or buffer vector, out and in (the same pattern for both). */
typedef ebm_status (*vector_count_fn)(const ebm_energy *, int64_t *);
typedef ebm_status (*vector_get_fn)(const ebm_energy *, float *, int64_t);
typedef ebm_status (*vector_set_fn)(ebm_energy *, const float *, int64_t);

static PyObject *get_vector(PyObject *args, vector_count_fn count_fn, vector_get_fn get_fn) {
    PyObject *capsule;
    PyArrayObject *out = NULL;
    ebm_energy *e;
    int64_t count = 0;
    npy_intp n;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "O", &capsule)) return NULL;
    if ((e = energy_from(capsule)) == NULL) return NULL;
    if ((status = count_fn(e, &count)) != EBM_OK) return raise_status(status);
    n = (npy_intp)count;
    if ((out = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_FLOAT32)) == NULL) return NULL;
    Py_BEGIN_ALLOW_THREADS
    status = get_fn(e, (float *)PyArray_DATA(out), count);
    Py_END_ALLOW_THREADS
    if (status != EBM_OK) {
        Py_DECREF(out);
        return raise_status(status);
    }
    return (PyObject *)out;
}

static PyObject *set_vector(PyObject *args, vector_set_fn set_fn, const char *name) {
    PyObject *capsule, *flat_obj, *result = NULL;
    PyArrayObject *flat = NULL;
    ebm_energy *e;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OO", &capsule, &flat_obj)) return NULL;
    if ((e = energy_from(capsule)) == NULL) return NULL;
    if ((flat = as_float32(flat_obj, 1, -1, name)) == NULL) goto fail;
    Py_BEGIN_ALLOW_THREADS
    status = set_fn(e, (const float *)PyArray_DATA(flat), PyArray_DIM(flat, 0));
    Py_END_ALLOW_THREADS
    if (status != EBM_OK) {
        raise_status(status);
        goto fail;
    }
    result = Py_NewRef(Py_None);
fail:
    Py_XDECREF(flat);
    return result;
}

static PyObject *py_energy_get_parameters(PyObject *self, PyObject *args) {
    return get_vector(args, ebm_energy_num_parameters, ebm_energy_get_parameters);
}

static PyObject *py_energy_set_parameters(PyObject *self, PyObject *args) {
    return set_vector(args, ebm_energy_set_parameters, "params");
}

static PyObject *py_energy_get_buffers(PyObject *self, PyObject *args) {
    return get_vector(args, ebm_energy_num_buffers, ebm_energy_get_buffers);
}

static PyObject *py_energy_set_buffers(PyObject *self, PyObject *args) {
    return set_vector(args, ebm_energy_set_buffers, "buffers");
}

static PyObject *py_energy_grad_params(PyObject *self, PyObject *args) {
    PyObject *capsule, *x_obj, *result = NULL;
    PyArrayObject *x = NULL, *grad = NULL;
    ebm_energy *e;
    npy_intp dim, n;
    int64_t count = 0;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OO", &capsule, &x_obj)) return NULL;
    if ((e = energy_from(capsule)) == NULL || energy_dim(e, &dim) < 0) return NULL;
    if ((status = ebm_energy_num_parameters(e, &count)) != EBM_OK) return raise_status(status);
    if ((x = as_float32(x_obj, 2, dim, "x")) == NULL) goto fail;
    n = (npy_intp)count;
    if ((grad = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_FLOAT32)) == NULL) goto fail;
    Py_BEGIN_ALLOW_THREADS
    status = ebm_energy_grad_params(e, (const float *)PyArray_DATA(x), PyArray_DIM(x, 0),
                                 (float *)PyArray_DATA(grad), count);
    Py_END_ALLOW_THREADS
    if (status != EBM_OK) {
        raise_status(status);
        goto fail;
    }
    result = Py_NewRef((PyObject *)grad);
fail:
    Py_XDECREF(x);
    Py_XDECREF(grad);
    return result;
}

/* energy_jet(energy, x, v, order, weights or None) -> (outputs (order + 1, n), grad or None) */
static PyObject *py_energy_jet(PyObject *self, PyObject *args) {
    PyObject *capsule, *x_obj, *v_obj, *weights_obj, *result = NULL;
    PyArrayObject *x = NULL, *v = NULL, *outputs = NULL, *grad = NULL;
    ebm_energy *e;
    npy_intp dim, shape[2];
    int order;
    int64_t count = 0;
    double weights[3] = {0, 0, 0};
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OOOiO", &capsule, &x_obj, &v_obj, &order, &weights_obj)) return NULL;
    if ((e = energy_from(capsule)) == NULL || energy_dim(e, &dim) < 0) return NULL;
    if (weights_obj != Py_None) {
        if (!PyArg_ParseTuple(weights_obj, "ddd", &weights[0], &weights[1], &weights[2])) return NULL;
        if ((status = ebm_energy_num_parameters(e, &count)) != EBM_OK) return raise_status(status);
    }
    if ((x = as_float32(x_obj, 2, dim, "x")) == NULL || (v = as_float32(v_obj, 2, dim, "v")) == NULL) goto fail;
    if (PyArray_DIM(v, 0) != PyArray_DIM(x, 0)) {
        PyErr_SetString(PyExc_ValueError, "v must have as many rows as x");
        goto fail;
    }
    shape[0] = order + 1;
    shape[1] = PyArray_DIM(x, 0);
    if ((outputs = (PyArrayObject *)PyArray_SimpleNew(2, shape, NPY_FLOAT32)) == NULL) goto fail;
    if (weights_obj != Py_None) {
        shape[0] = (npy_intp)count;
        if ((grad = (PyArrayObject *)PyArray_SimpleNew(1, shape, NPY_FLOAT32)) == NULL) goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    status = ebm_energy_jet(e, (const float *)PyArray_DATA(x), (const float *)PyArray_DATA(v), PyArray_DIM(x, 0),
                            order, weights, (float *)PyArray_DATA(outputs),
                            grad == NULL ? NULL : (float *)PyArray_DATA(grad), count);
    Py_END_ALLOW_THREADS
    if (status != EBM_OK) {
        raise_status(status);
        goto fail;
    }
    result = PyTuple_Pack(2, outputs, grad == NULL ? Py_None : (PyObject *)grad);
fail:
    Py_XDECREF(x);
    Py_XDECREF(v);
    Py_XDECREF(outputs);
    Py_XDECREF(grad);
    return result;
}

/* ---- settings records ------------------------------------------------------------------------- */

/* A record crosses from Python as (kind, settings): a str and a dict whose values are None, an int
   (a seed up to 2**64 - 1 keeps its bits), a float, a str or a 1-d array of numbers. The shim only
   converts; the core reads the settings strictly by name. The record holds references to every
   name and value until record_clear, so the GIL can be released while the core reads it. */
#define MAX_SETTINGS 64

typedef struct {
    ebm_record record;
    ebm_setting settings[MAX_SETTINGS];
    PyObject *items;                     /* the dict's (name, value) pairs */
    PyArrayObject *arrays[MAX_SETTINGS]; /* the float64 arrays of array settings */
} record_storage;

static void record_clear(record_storage *r) {
    for (int k = 0; k < MAX_SETTINGS; k++) Py_CLEAR(r->arrays[k]);
    Py_CLEAR(r->items);
}

static int setting_from(PyObject *value, ebm_setting *s, PyArrayObject **array, const char *role) {
    if (value == Py_None) {
        s->type = EBM_SETTING_NONE;
    } else if (PyFloat_Check(value)) {
        s->type = EBM_SETTING_NUMBER;
        s->number = PyFloat_AsDouble(value);
    } else if (PyUnicode_Check(value)) {
        s->type = EBM_SETTING_TEXT;
        if ((s->text = PyUnicode_AsUTF8(value)) == NULL) return -1;
    } else if (PyLong_Check(value) || (PyIndex_Check(value) && !PyArray_Check(value))) {
        int overflow = 0;
        PyObject *index = PyNumber_Index(value);
        if (index == NULL) return -1;
        s->type = EBM_SETTING_INTEGER;
        s->integer = PyLong_AsLongLongAndOverflow(index, &overflow);
        if (overflow > 0) s->integer = (int64_t)PyLong_AsUnsignedLongLong(index); /* a seed's bits */
        Py_DECREF(index);
        if (PyErr_Occurred()) return -1;
    } else {
        *array = (PyArrayObject *)PyArray_FROM_OTF(value, NPY_FLOAT64, NPY_ARRAY_IN_ARRAY);
        if (*array == NULL) return -1;
        if (PyArray_NDIM(*array) != 1) {
            PyErr_Format(PyExc_TypeError, "%s setting '%s': expected a 1-d array", role, s->name);
            return -1;
        }
        s->type = EBM_SETTING_ARRAY;
        s->array = (const double *)PyArray_DATA(*array);
        s->count = PyArray_SIZE(*array);
    }
    return 0;
}

/* Fills r from obj, a (kind, dict) pair. 0, or -1 with an exception set (r then needs record_clear). */
static int record_from(PyObject *obj, const char *role, record_storage *r) {
    PyObject *kind, *dict;
    memset(r, 0, sizeof *r);
    if (!PyArg_ParseTuple(obj, "O!O!", &PyUnicode_Type, &kind, &PyDict_Type, &dict)) return -1;
    if (PyDict_Size(dict) > MAX_SETTINGS) {
        PyErr_Format(PyExc_ValueError, "%s: at most %d settings", role, MAX_SETTINGS);
        return -1;
    }
    if ((r->record.kind = PyUnicode_AsUTF8(kind)) == NULL || (r->items = PyDict_Items(dict)) == NULL) return -1;
    r->record.settings = r->settings;
    r->record.count = PyList_GET_SIZE(r->items);
    for (Py_ssize_t k = 0; k < r->record.count; k++) {
        PyObject *item = PyList_GET_ITEM(r->items, k), *name = PyTuple_GET_ITEM(item, 0);
        if (!PyUnicode_Check(name)) {
            PyErr_Format(PyExc_TypeError, "%s: setting names must be str, got %R", role, name);
            return -1;
        }
        if ((r->settings[k].name = PyUnicode_AsUTF8(name)) == NULL ||
            setting_from(PyTuple_GET_ITEM(item, 1), &r->settings[k], &r->arrays[k], role) < 0)
            return -1;
    }
    return 0;
}

/* ---- sampling --------------------------------------------------------------------------------- */

/* What a sampling call records: new arrays for the trajectory (thin > 0), the per-step statistics,
   the per-chain acceptance rates, divergences, step sizes and (with adapt_mass) inverse masses,
   and the ebm_sampler_output pointing into them. */
typedef struct {
    PyArrayObject *trajectory, *stats, *acceptance, *divergent, *step_size, *inverse_mass;
    ebm_sampler_output out;
} recording;

static int recording_init(recording *r, npy_intp n, npy_intp dim, npy_intp steps, npy_intp thin, int want_stats,
                          int want_mass) {
    npy_intp tdims[3] = {thin > 0 ? steps / thin : 0, n, dim}, sdims[2] = {steps, 3}, mdims[2] = {n, dim};
    memset(r, 0, sizeof(*r));
    r->out.thin = thin > 0 ? thin : 1;
    if (thin > 0) {
        if ((r->trajectory = (PyArrayObject *)PyArray_SimpleNew(3, tdims, NPY_FLOAT32)) == NULL) return -1;
        r->out.trajectory = (float *)PyArray_DATA(r->trajectory);
    }
    if (want_stats) {
        if ((r->stats = (PyArrayObject *)PyArray_SimpleNew(2, sdims, NPY_FLOAT64)) == NULL) return -1;
        r->out.step_stats = (double *)PyArray_DATA(r->stats);
    }
    if (want_mass) {
        if ((r->inverse_mass = (PyArrayObject *)PyArray_SimpleNew(2, mdims, NPY_FLOAT32)) == NULL) return -1;
        r->out.inverse_mass = (float *)PyArray_DATA(r->inverse_mass);
    }
    if ((r->acceptance = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_FLOAT64)) == NULL ||
        (r->divergent = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_FLOAT64)) == NULL ||
        (r->step_size = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_FLOAT32)) == NULL)
        return -1;
    r->out.acceptance = (double *)PyArray_DATA(r->acceptance);
    r->out.n_divergent = (double *)PyArray_DATA(r->divergent);
    r->out.step_size = (float *)PyArray_DATA(r->step_size);
    return 0;
}

static void recording_clear(recording *r) {
    Py_XDECREF(r->trajectory);
    Py_XDECREF(r->stats);
    Py_XDECREF(r->acceptance);
    Py_XDECREF(r->divergent);
    Py_XDECREF(r->step_size);
    Py_XDECREF(r->inverse_mass);
}

#define OR_NONE(a) ((a) ? (PyObject *)(a) : Py_None)

/* {"acceptance_rate", "n_divergent", "step_size", "inverse_mass", "trajectory", "stats"} (None
   for what was not recorded). */
static PyObject *recording_result(recording *r) {
    return Py_BuildValue("{s:O,s:O,s:O,s:O,s:O,s:O}", "acceptance_rate", (PyObject *)r->acceptance,
                         "n_divergent", (PyObject *)r->divergent, "step_size", (PyObject *)r->step_size,
                         "inverse_mass", OR_NONE(r->inverse_mass), "trajectory", OR_NONE(r->trajectory),
                         "stats", OR_NONE(r->stats));
}

/* The sampler's state array: a writeable C-contiguous float32 (n, dim) array the Python layer
   made (a fresh copy of x0), sampled in place. */
static int check_state(PyArrayObject *x, npy_intp dim) {
    if (PyArray_TYPE(x) != NPY_FLOAT32 || !PyArray_IS_C_CONTIGUOUS(x) || !PyArray_ISWRITEABLE(x) ||
        PyArray_NDIM(x) != 2 || PyArray_DIM(x, 1) != dim || PyArray_DIM(x, 0) < 1) {
        PyErr_SetString(PyExc_TypeError, "x: expected a writeable C-contiguous float32 (n, dim) array");
        return -1;
    }
    return 0;
}

/* sample(handle, x, sampler, run, adaptation, thin, want_stats, progress) -> dict of recordings
   (see recording_result); x is sampled in place. sampler, run: (kind, dict) records; adaptation:
   a record or None. */
static PyObject *py_sample(PyObject *self, PyObject *args) {
    PyObject *capsule, *sampler_obj, *run_obj, *adaptation_obj, *progress, *result = NULL;
    PyArrayObject *x;
    ebm_energy *e;
    record_storage sampler, run, adaptation;
    long long thin, n_steps;
    int want_stats, want_mass;
    npy_intp dim;
    poll_state poll;
    recording rec;
    ebm_status status;
    memset(&rec, 0, sizeof rec);
    memset(&sampler, 0, sizeof sampler);
    memset(&run, 0, sizeof run);
    memset(&adaptation, 0, sizeof adaptation);
    if (!PyArg_ParseTuple(args, "OO!OOOLLppO", &capsule, &PyArray_Type, &x, &sampler_obj, &run_obj, &adaptation_obj,
                          &n_steps, &thin, &want_stats, &want_mass, &progress))
        return NULL;
    if ((e = energy_from(capsule)) == NULL || energy_dim(e, &dim) < 0 || check_state(x, dim) < 0) return NULL;
    if (record_from(sampler_obj, "sampler", &sampler) < 0 || record_from(run_obj, "run", &run) < 0 ||
        (adaptation_obj != Py_None && record_from(adaptation_obj, "adaptation", &adaptation) < 0))
        goto fail;
    if (n_steps < 1) {
        PyErr_SetString(PyExc_ValueError, "n_steps must be positive");
        goto fail;
    }
    if (recording_init(&rec, PyArray_DIM(x, 0), dim, (npy_intp)n_steps, (npy_intp)thin, want_stats, want_mass) < 0)
        goto fail;
    poll_init(&poll, progress, capsule);
    Py_BEGIN_ALLOW_THREADS
    status = ebm_sample(e, (float *)PyArray_DATA(x), PyArray_DIM(x, 0), &sampler.record, &run.record,
                        adaptation_obj != Py_None ? &adaptation.record : NULL, &rec.out, poll_signals, &poll);
    Py_END_ALLOW_THREADS
    result = status == EBM_OK ? recording_result(&rec) : raise_call_status(status, capsule);
fail:
    recording_clear(&rec);
    record_clear(&sampler);
    record_clear(&run);
    record_clear(&adaptation);
    return result;
}

/* ais_log_z(handle, transition, run, n_chains, base_mean, progress)
   -> (log_z, std_err, log_weights, acceptance, n_divergent); transition, run: records. */
static PyObject *py_ais_log_z(PyObject *self, PyObject *args) {
    PyObject *capsule, *transition_obj, *run_obj, *mean_obj, *progress, *result = NULL;
    PyArrayObject *mean = NULL, *weights = NULL, *acceptance = NULL, *divergent = NULL;
    ebm_energy *e;
    record_storage transition, run;
    ebm_ais_output out;
    npy_intp dim, n;
    long long n_chains;
    poll_state poll;
    ebm_status status;
    memset(&out, 0, sizeof out);
    memset(&transition, 0, sizeof transition);
    memset(&run, 0, sizeof run);
    if (!PyArg_ParseTuple(args, "OOOLOO", &capsule, &transition_obj, &run_obj, &n_chains, &mean_obj, &progress))
        return NULL;
    if ((e = energy_from(capsule)) == NULL || energy_dim(e, &dim) < 0) return NULL;
    if (record_from(transition_obj, "transition", &transition) < 0 || record_from(run_obj, "run", &run) < 0) goto fail;
    mean = (PyArrayObject *)PyArray_FROM_OTF(mean_obj, NPY_FLOAT64, NPY_ARRAY_IN_ARRAY);
    if (mean == NULL) goto fail;
    if (PyArray_NDIM(mean) != 1 || PyArray_DIM(mean, 0) != dim || n_chains < 1) {
        PyErr_SetString(PyExc_ValueError, "base_mean must be (dim,) and n_chains positive");
        goto fail;
    }
    n = (npy_intp)n_chains;
    weights = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_FLOAT64);
    acceptance = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_FLOAT64);
    divergent = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_FLOAT64);
    if (weights == NULL || acceptance == NULL || divergent == NULL) goto fail;
    out.log_weights = (double *)PyArray_DATA(weights);
    out.acceptance = (double *)PyArray_DATA(acceptance);
    out.n_divergent = (double *)PyArray_DATA(divergent);
    poll_init(&poll, progress, capsule);
    Py_BEGIN_ALLOW_THREADS
    status = ebm_ais_log_z(e, &transition.record, &run.record, (const double *)PyArray_DATA(mean), &out, poll_signals,
                           &poll);
    Py_END_ALLOW_THREADS
    if (status != EBM_OK) {
        raise_call_status(status, capsule);
        goto fail;
    }
    result = Py_BuildValue("(ddOOO)", out.log_z, out.std_err, (PyObject *)weights, (PyObject *)acceptance,
                           (PyObject *)divergent);
fail:
    record_clear(&transition);
    record_clear(&run);
    Py_XDECREF(mean);
    Py_XDECREF(weights);
    Py_XDECREF(acceptance);
    Py_XDECREF(divergent);
    return result;
}

/* ais_summarise(log_weights, dim, base_std) -> (log_z, std_err) */
static PyObject *py_ais_summarise(PyObject *self, PyObject *args) {
    PyObject *weights_obj;
    PyArrayObject *weights;
    long long dim;
    double base_std, log_z = 0, std_err = 0;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OLd", &weights_obj, &dim, &base_std)) return NULL;
    weights = (PyArrayObject *)PyArray_FROM_OTF(weights_obj, NPY_FLOAT64, NPY_ARRAY_IN_ARRAY);
    if (weights == NULL) return NULL;
    if (PyArray_NDIM(weights) != 1 || PyArray_SIZE(weights) < 1) {
        Py_DECREF(weights);
        PyErr_SetString(PyExc_ValueError, "log_weights: expected a non-empty 1-d array");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    status = ebm_ais_summarise((const double *)PyArray_DATA(weights), PyArray_SIZE(weights), dim, base_std, &log_z,
                               &std_err);
    Py_END_ALLOW_THREADS
    Py_DECREF(weights);
    if (status != EBM_OK) return raise_status(status);
    return Py_BuildValue("(dd)", log_z, std_err);
}

/* sampler_kinds() -> the registered kernels' names, as a str "a,b,c" */
static PyObject *py_sampler_kinds(PyObject *self, PyObject *args) { return PyUnicode_FromString(ebm_sampler_kinds()); }

static PyObject *py_set_num_threads(PyObject *self, PyObject *args) {
    long long n;
    if (!PyArg_ParseTuple(args, "L", &n)) return NULL;
    ebm_set_num_threads(n);
    Py_RETURN_NONE;
}

static PyObject *py_get_num_threads(PyObject *self, PyObject *args) {
    return PyLong_FromLongLong(ebm_get_num_threads());
}

/* ---- training --------------------------------------------------------------------------------- */

/* trainer_create(handle, trainer, optimizer, objective, sampler) -> trainer; each a (kind, dict)
   record, sampler None for objectives without negatives. */
static PyObject *py_trainer_create(PyObject *self, PyObject *args) {
    PyObject *capsule, *objs[4], *result = NULL;
    static const char *roles[4] = {"trainer", "optimizer", "objective", "sampler"};
    record_storage records[4];
    ebm_energy *e;
    ebm_trainer *out = NULL;
    ebm_status status;
    memset(records, 0, sizeof records);
    if (!PyArg_ParseTuple(args, "OOOOO", &capsule, &objs[0], &objs[1], &objs[2], &objs[3])) return NULL;
    if ((e = energy_from(capsule)) == NULL) return NULL;
    for (int k = 0; k < 4; k++) {
        if ((k < 3 || objs[k] != Py_None) && record_from(objs[k], roles[k], &records[k]) < 0) goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    status = ebm_trainer_create(e, &records[0].record, &records[1].record, &records[2].record,
                                objs[3] != Py_None ? &records[3].record : NULL, &out);
    Py_END_ALLOW_THREADS
    if (status != EBM_OK) {
        raise_status(status);
        goto fail;
    }
    result = PyCapsule_New(out, TRAINER_CAPSULE, trainer_capsule_destroy);
    if (result == NULL) ebm_trainer_destroy(out);
fail:
    for (int k = 0; k < 4; k++) record_clear(&records[k]);
    return result;
}

/* trainer_step(handle, x, dim, lr, history) -> (loss, e_data, e_model, grad_norm, lr, step_time).
   `history` is the trainer's six lists in that order: the step's row is appended here, in C, where
   no signal handler can run between the step and its record (a KeyboardInterrupt raised after
   the native step returned would otherwise leave a completed step out of the history). */
static PyObject *py_trainer_step(PyObject *self, PyObject *args) {
    PyObject *capsule, *x_obj, *dim_obj, *labels_obj, *history, *result = NULL;
    PyArrayObject *x = NULL, *labels = NULL;
    ebm_trainer *t;
    ebm_train_stats stats;
    poll_state poll;
    Py_ssize_t dim;
    double lr, seconds;
    struct timespec t0, t1;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OOOOdO!", &capsule, &x_obj, &dim_obj, &labels_obj, &lr, &PyTuple_Type, &history))
        return NULL;
    if (PyTuple_GET_SIZE(history) != 6) {
        PyErr_SetString(PyExc_TypeError, "history: expected a tuple of six lists");
        return NULL;
    }
    for (Py_ssize_t k = 0; k < 6; k++)
        if (!PyList_Check(PyTuple_GET_ITEM(history, k))) {
            PyErr_SetString(PyExc_TypeError, "history: expected a tuple of six lists");
            return NULL;
        }
    if ((t = trainer_from(capsule)) == NULL) return NULL;
    if ((dim = PyLong_AsSsize_t(dim_obj)) < 0) return NULL;
    if ((x = as_float32(x_obj, 2, dim, "x")) == NULL) goto fail;
    if (labels_obj != Py_None) {
        labels = (PyArrayObject *)PyArray_FROM_OTF(labels_obj, NPY_INT32, NPY_ARRAY_IN_ARRAY);
        if (labels == NULL) goto fail;
        if (PyArray_NDIM(labels) != 1 || PyArray_DIM(labels, 0) != PyArray_DIM(x, 0)) {
            PyErr_SetString(PyExc_ValueError, "labels: expected one per row of x");
            goto fail;
        }
    }
    poll_init(&poll, Py_None, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    Py_BEGIN_ALLOW_THREADS
    status = ebm_trainer_step(t, (const float *)PyArray_DATA(x), PyArray_DIM(x, 0),
                              labels ? (const int32_t *)PyArray_DATA(labels) : NULL, lr, &stats, poll_signals, &poll);
    Py_END_ALLOW_THREADS
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (status != EBM_OK) {
        raise_status(status);
        goto fail;
    }
    seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if ((result = Py_BuildValue("(dddddd)", stats.loss, stats.e_data, stats.e_model, stats.grad_norm, lr, seconds)) == NULL)
        goto fail;
    for (Py_ssize_t k = 0; k < 6; k++)
        if (PyList_Append(PyTuple_GET_ITEM(history, k), PyTuple_GET_ITEM(result, k)) < 0) {
            Py_CLEAR(result);
            goto fail;
        }
fail:
    Py_XDECREF(x);
    Py_XDECREF(labels);
    return result;
}

/* The trainer's state entries (ebm_trainer_state), in a PyMem block the caller frees. */
static ebm_state_entry *state_entries(ebm_trainer *t, int64_t *count) {
    ebm_state_entry *entries;
    ebm_status status;
    Py_BEGIN_ALLOW_THREADS /* waits on the trainer's lock while a step runs: never with the GIL */
    status = ebm_trainer_state(t, NULL, 0, count);
    Py_END_ALLOW_THREADS
    if (status != EBM_OK) return (ebm_state_entry *)raise_status(status);
    if ((entries = PyMem_Calloc((size_t)(*count > 0 ? *count : 1), sizeof(ebm_state_entry))) == NULL)
        return (ebm_state_entry *)PyErr_NoMemory();
    if ((status = ebm_trainer_state(t, entries, *count, count)) != EBM_OK) {
        PyMem_Free(entries);
        return (ebm_state_entry *)raise_status(status);
    }
    return entries;
}

/* The entry called `name` (copied into *out), or a KeyError. */
static int state_entry(ebm_trainer *t, const char *name, ebm_state_entry *out) {
    int64_t count = 0;
    ebm_state_entry *entries = state_entries(t, &count);
    if (entries == NULL) return -1;
    for (int64_t k = 0; k < count; k++)
        if (strcmp(entries[k].name, name) == 0) {
            *out = entries[k];
            PyMem_Free(entries);
            return 0;
        }
    PyMem_Free(entries);
    PyErr_Format(PyExc_KeyError, "the trainer has no state '%s'", name);
    return -1;
}

static int state_numpy_type(const ebm_state_entry *e) { return e->type == EBM_STATE_INT64 ? NPY_INT64 : NPY_FLOAT32; }

/* trainer_state(handle) -> [(name, numpy dtype char, shape)] */
static PyObject *py_trainer_state(PyObject *self, PyObject *args) {
    PyObject *capsule, *list = NULL;
    ebm_trainer *t;
    ebm_state_entry *entries;
    int64_t count = 0;
    if (!PyArg_ParseTuple(args, "O", &capsule) || (t = trainer_from(capsule)) == NULL) return NULL;
    if ((entries = state_entries(t, &count)) == NULL) return NULL;
    if ((list = PyList_New(0)) == NULL) goto done;
    for (int64_t k = 0; k < count; k++) {
        const ebm_state_entry *e = &entries[k];
        PyObject *shape = e->ndim == 0 ? Py_BuildValue("()") : e->ndim == 1 ? Py_BuildValue("(L)", (long long)e->shape[0])
                                                              : Py_BuildValue("(LL)", (long long)e->shape[0], (long long)e->shape[1]);
        PyObject *item = shape ? Py_BuildValue("(ssN)", e->name, e->type == EBM_STATE_INT64 ? "int64" : "float32", shape) : NULL;
        if (item == NULL || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            Py_CLEAR(list);
            goto done;
        }
        Py_DECREF(item);
    }
done:
    PyMem_Free(entries);
    return list;
}

/* trainer_get_state(handle, name) -> a new array of the entry's type and shape */
static PyObject *py_trainer_get_state(PyObject *self, PyObject *args) {
    PyObject *capsule;
    PyArrayObject *out;
    ebm_trainer *t;
    ebm_state_entry e;
    const char *name;
    npy_intp dims[2];
    ebm_status status;
    if (!PyArg_ParseTuple(args, "Os", &capsule, &name) || (t = trainer_from(capsule)) == NULL) return NULL;
    if (state_entry(t, name, &e) < 0) return NULL;
    dims[0] = (npy_intp)e.shape[0];
    dims[1] = (npy_intp)e.shape[1];
    if ((out = (PyArrayObject *)PyArray_SimpleNew(e.ndim, dims, state_numpy_type(&e))) == NULL) return NULL;
    Py_BEGIN_ALLOW_THREADS
    status = ebm_trainer_get_state(t, name, PyArray_DATA(out), (int64_t)PyArray_SIZE(out));
    Py_END_ALLOW_THREADS
    if (status != EBM_OK) {
        Py_DECREF(out);
        return raise_status(status);
    }
    return (PyObject *)out;
}

/* trainer_set_state(handle, name, values): values cast to the entry's type (shape checked in Python) */
static PyObject *py_trainer_set_state(PyObject *self, PyObject *args) {
    PyObject *capsule, *values_obj;
    PyArrayObject *values;
    ebm_trainer *t;
    ebm_state_entry e;
    const char *name;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OsO", &capsule, &name, &values_obj) || (t = trainer_from(capsule)) == NULL) return NULL;
    if (state_entry(t, name, &e) < 0) return NULL;
    values = (PyArrayObject *)PyArray_FROM_OTF(values_obj, state_numpy_type(&e), NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST);
    if (values == NULL) return NULL;
    Py_BEGIN_ALLOW_THREADS
    status = ebm_trainer_set_state(t, name, PyArray_DATA(values), (int64_t)PyArray_SIZE(values));
    Py_END_ALLOW_THREADS
    Py_DECREF(values);
    if (status != EBM_OK) return raise_status(status);
    Py_RETURN_NONE;
}

static PyObject *py_version(PyObject *self, PyObject *args) { return PyUnicode_FromString(ebm_version()); }

static PyObject *py_runtime_info(PyObject *self, PyObject *args) {
    ebm_runtime_info info;
    ebm_status status = ebm_runtime_info_get(&info);
    if (status != EBM_OK) return raise_status(status);
    return Py_BuildValue("{s:s,s:s,s:s,s:L}", "isa", info.isa, "blas_config", info.blas_config, "blas_core",
                         info.blas_core, "blas_num_threads", (long long)info.blas_num_threads);
}

/* ---- module ----------------------------------------------------------------------------------- */

static PyMethodDef methods[] = {
    {"mlp_create", py_mlp_create, METH_VARARGS, NULL},
    {"gaussian_create", py_gaussian_create, METH_VARARGS, NULL},
    {"network_create", py_network_create, METH_VARARGS, NULL},
    {"energy_dim", py_energy_dim, METH_VARARGS, NULL},
    {"energy_eval", py_energy_eval, METH_VARARGS, NULL},
    {"energy_grad_x", py_energy_grad_x, METH_VARARGS, NULL},
    {"energy_get_parameters", py_energy_get_parameters, METH_VARARGS, NULL},
    {"energy_set_parameters", py_energy_set_parameters, METH_VARARGS, NULL},
    {"energy_get_buffers", py_energy_get_buffers, METH_VARARGS, NULL},
    {"energy_set_buffers", py_energy_set_buffers, METH_VARARGS, NULL},
    {"energy_grad_params", py_energy_grad_params, METH_VARARGS, NULL},
    {"energy_jet", py_energy_jet, METH_VARARGS, NULL},
    {"energy_num_classes", py_energy_num_classes, METH_VARARGS, NULL},
    {"energy_logits", py_energy_logits, METH_VARARGS, NULL},
    {"energy_class_create", py_energy_class_create, METH_VARARGS, NULL},
    {"gaussian_mixture_create", py_gaussian_mixture_create, METH_VARARGS, NULL},
    {"double_well_create", py_double_well_create, METH_VARARGS, NULL},
    {"banana_create", py_banana_create, METH_VARARGS, NULL},
    {"callable_create", py_callable_create, METH_VARARGS, NULL},
    {"sample", py_sample, METH_VARARGS, NULL},
    {"sampler_kinds", py_sampler_kinds, METH_NOARGS, NULL},
    {"ais_log_z", py_ais_log_z, METH_VARARGS, NULL},
    {"ais_summarise", py_ais_summarise, METH_VARARGS, NULL},
    {"set_num_threads", py_set_num_threads, METH_VARARGS, NULL},
    {"get_num_threads", py_get_num_threads, METH_NOARGS, NULL},
    {"trainer_create", py_trainer_create, METH_VARARGS, NULL},
    {"trainer_step", py_trainer_step, METH_VARARGS, NULL},
    {"trainer_state", py_trainer_state, METH_VARARGS, NULL},
    {"trainer_get_state", py_trainer_get_state, METH_VARARGS, NULL},
    {"trainer_set_state", py_trainer_set_state, METH_VARARGS, NULL},
    {"version", py_version, METH_NOARGS, NULL},
    {"runtime_info", py_runtime_info, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_native",
    "Private: the NumPy shim over libebm_swift's C ABI. Use the ebm_swift package instead.", -1,
    methods, NULL, NULL, NULL, NULL,
};

/* The ABI's codes, defined once in ebm_swift.h, as module attributes of the same names. */
static int add_codes(PyObject *m) {
#define CODE(name) \
    if (PyModule_AddIntConstant(m, #name, name) < 0) return -1;
    CODE(EBM_ACT_SWISH) CODE(EBM_ACT_TANH) CODE(EBM_ACT_SOFTPLUS) CODE(EBM_ACT_ELU) CODE(EBM_ACT_LEAKY_RELU)
    CODE(EBM_ACT_GELU) CODE(EBM_ACT_GELU_ERF)
    CODE(EBM_LAYER_LINEAR) CODE(EBM_LAYER_CONV2D) CODE(EBM_LAYER_AVGPOOL2D) CODE(EBM_LAYER_ACTIVATION)
    CODE(EBM_LAYER_LEAKY_RELU) CODE(EBM_LAYER_FLATTEN) CODE(EBM_LAYER_RESIDUAL) CODE(EBM_LAYER_SPECTRAL_NORM)
#undef CODE
    return 0;
}

PyMODINIT_FUNC PyInit__native(void) {
    PyObject *m;
    import_array();
    m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    DivergenceError = PyErr_NewExceptionWithDoc(
        "ebm_swift.DivergenceError",
        "A NaN or infinity appeared during sampling or training.\n\n"
        "Attributes: site ('langevin', 'mala', 'hmc', 'ais', 'training'), quantity ('samples', 'energy',\n"
        "'gradient', 'parameters', 'log_weight'), step (1-based; 0 where none applies), chain (or None).",
        PyExc_FloatingPointError, NULL);
    if (DivergenceError == NULL || PyModule_AddObjectRef(m, "DivergenceError", DivergenceError) < 0 ||
        add_codes(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
