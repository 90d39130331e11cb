#include "shim.h"

PyObject *DivergenceError = NULL;

const char *ENERGY_CAPSULE = "ebm_swift.energy";
const char *TRAINER_CAPSULE = "ebm_swift.trainer";

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

PyObject *raise_status(ebm_status status) {
    switch (status) {
    case EBM_ERR_INVALID_ARGUMENT:
        PyErr_SetString(PyExc_ValueError, ebm_last_error());
        break;
    case EBM_ERR_OUT_OF_MEMORY:
        PyErr_SetString(PyExc_MemoryError, ebm_last_error());
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

/* Copies `count` floats of `obj` (any array-like) to `out`; a ValueError naming `what` otherwise. */
int copy_floats(PyObject *obj, float *out, npy_intp count, const char *what) {
    PyArrayObject *a = (PyArrayObject *)PyArray_FROM_OTF(obj, NPY_FLOAT32, NPY_ARRAY_IN_ARRAY);
    if (a == NULL) return -1;
    if (PyArray_SIZE(a) != count) {
        PyErr_Format(PyExc_ValueError, "%s returned %zd values, expected %zd", what,
                     (Py_ssize_t)PyArray_SIZE(a), (Py_ssize_t)count);
        Py_DECREF(a);
        return -1;
    }
    memcpy(out, PyArray_DATA(a), (size_t)count * sizeof(float));
    Py_DECREF(a);
    return 0;
}

/* The end of a Python callback the library called (GIL held): the first failure's exception is
   kept in *type, *value, *traceback for the caller to re-raise when the native call returns;
   any exception is then cleared (the library only sees the status). */
void keep_callback_error(int failed, PyObject **type, PyObject **value, PyObject **traceback) {
    if (failed && PyErr_Occurred() && *type == NULL) PyErr_Fetch(type, value, traceback);
    PyErr_Clear();
}

/* ebm_energy_fn: called by the library (GIL released) once per step for the whole batch. */
int32_t call_python_energy(void *ctx_, const float *x, int64_t n, int64_t dim, float *energies,
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
    if (energies && copy_floats(PyTuple_GET_ITEM(result, 0), energies, dims[0], "callable energy") < 0) goto fail;
    if (grad && copy_floats(PyTuple_GET_ITEM(result, 1), grad, dims[0] * dims[1], "callable energy") < 0) goto fail;
    rc = 0;
fail:
    keep_callback_error(rc != 0, &ctx->error_type, &ctx->error_value, &ctx->error_traceback);
    Py_XDECREF(xa);
    Py_XDECREF(result);
    PyGILState_Release(gil);
    return rc;
}

/* Re-raises (and forgets) the exception a callable energy raised during the last call, if any. */
int restore_callable_error(PyObject *capsule) {
    callable_ctx *ctx = (callable_ctx *)PyCapsule_GetContext(capsule);
    if (ctx == NULL || ctx->error_type == NULL) return 0;
    PyErr_Restore(ctx->error_type, ctx->error_value, ctx->error_traceback);
    ctx->error_type = ctx->error_value = ctx->error_traceback = NULL;
    return 1;
}

/* ---- Ctrl-C and progress: the poll callback of long calls ---------------------------------- */


void poll_init(poll_state *s, PyObject *progress, PyObject *capsule) {
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
int32_t poll_signals(void *ctx, double progress) {
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
PyObject *raise_call_status(ebm_status status, PyObject *capsule) {
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

void energy_capsule_destroy(PyObject *capsule) {
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

void trainer_capsule_destroy(PyObject *capsule) {
    ebm_trainer_destroy((ebm_trainer *)PyCapsule_GetPointer(capsule, TRAINER_CAPSULE));
}

/* A new energy handle as a capsule that destroys it, or NULL with the status's exception. */
PyObject *wrap_energy(ebm_status status, ebm_energy *out) {
    PyObject *capsule;
    if (status != EBM_OK) return raise_status(status);
    capsule = PyCapsule_New(out, ENERGY_CAPSULE, energy_capsule_destroy);
    if (capsule == NULL) ebm_energy_destroy(out);
    return capsule;
}

ebm_energy *energy_from(PyObject *capsule) {
    return (ebm_energy *)PyCapsule_GetPointer(capsule, ENERGY_CAPSULE);
}

ebm_trainer *trainer_from(PyObject *capsule) {
    return (ebm_trainer *)PyCapsule_GetPointer(capsule, TRAINER_CAPSULE);
}

/* ---- array conversion ------------------------------------------------------------------------- */

/* A float32 C-contiguous view or copy of obj with `ndim` dimensions and, if cols >= 0, that many
   columns. New reference, or NULL with an exception set. */
PyArrayObject *as_float32(PyObject *obj, int ndim, npy_intp cols, const char *name) {
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

int energy_dim(ebm_energy *e, npy_intp *dim) {
    int64_t d = 0;
    ebm_status status = ebm_energy_dim(e, &d);
    if (status != EBM_OK) {
        raise_status(status);
        return -1;
    }
    *dim = (npy_intp)d;
    return 0;
}

