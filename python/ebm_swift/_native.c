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
#include <time.h>

#include "ebm_swift.h"

static PyObject *DivergenceError = NULL;

static const char *ENERGY_CAPSULE = "ebm_swift.energy";
static const char *TRAINER_CAPSULE = "ebm_swift.trainer";

/* ---- status codes -> exceptions (the one place) ---------------------------------------------- */

static PyObject *raise_status(ebm_status status) {
    switch (status) {
    case EBM_ERR_INVALID_ARGUMENT:
        PyErr_SetString(PyExc_ValueError, ebm_last_error());
        break;
    case EBM_ERR_DIVERGED:
        PyErr_SetString(DivergenceError, ebm_last_error());
        break;
    case EBM_ERR_INTERRUPTED:
        /* The poll callback already ran the signal handlers, which set the exception
           (KeyboardInterrupt for Ctrl-C). */
        if (!PyErr_Occurred()) PyErr_SetNone(PyExc_KeyboardInterrupt);
        break;
    default:
        PyErr_Format(PyExc_RuntimeError, "ebm_swift internal error (status %d): %s", (int)status,
                     ebm_last_error());
    }
    return NULL;
}

/* ---- Ctrl-C: the poll callback of long calls --------------------------------------------------- */

typedef struct {
    struct timespec last;
} poll_state;

static void poll_init(poll_state *s) { clock_gettime(CLOCK_MONOTONIC, &s->last); }

/* Called by the library about once per step with the GIL released. Every 50 ms it takes the GIL
   and runs pending signal handlers; a non-zero return (an exception is set) stops the call. */
static int32_t poll_signals(void *ctx) {
    poll_state *s = (poll_state *)ctx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double elapsed = (double)(now.tv_sec - s->last.tv_sec) + 1e-9 * (double)(now.tv_nsec - s->last.tv_nsec);
    if (elapsed < 0.05) return 0;
    s->last = now;
    PyGILState_STATE gil = PyGILState_Ensure();
    int failed = PyErr_CheckSignals();
    PyGILState_Release(gil);
    return failed != 0;
}

/* ---- handles ---------------------------------------------------------------------------------- */

static void energy_capsule_destroy(PyObject *capsule) {
    ebm_energy_destroy((ebm_energy *)PyCapsule_GetPointer(capsule, ENERGY_CAPSULE));
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

/* ---- MLP parameters --------------------------------------------------------------------------- */

static PyObject *py_mlp_get_parameters(PyObject *self, PyObject *args) {
    PyObject *capsule;
    PyArrayObject *out = NULL;
    ebm_energy *e;
    int64_t count = 0;
    npy_intp n;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "O", &capsule)) return NULL;
    if ((e = energy_from(capsule)) == NULL) return NULL;
    if ((status = ebm_mlp_num_parameters(e, &count)) != EBM_OK) return raise_status(status);
    n = (npy_intp)count;
    if ((out = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_FLOAT32)) == NULL) return NULL;
    Py_BEGIN_ALLOW_THREADS
    status = ebm_mlp_get_parameters(e, (float *)PyArray_DATA(out), count);
    Py_END_ALLOW_THREADS
    if (status != EBM_OK) {
        Py_DECREF(out);
        return raise_status(status);
    }
    return (PyObject *)out;
}

static PyObject *py_mlp_set_parameters(PyObject *self, PyObject *args) {
    PyObject *capsule, *flat_obj, *result = NULL;
    PyArrayObject *flat = NULL;
    ebm_energy *e;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OO", &capsule, &flat_obj)) return NULL;
    if ((e = energy_from(capsule)) == NULL) return NULL;
    if ((flat = as_float32(flat_obj, 1, -1, "params")) == NULL) goto fail;
    Py_BEGIN_ALLOW_THREADS
    status = ebm_mlp_set_parameters(e, (const float *)PyArray_DATA(flat), PyArray_DIM(flat, 0));
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

static PyObject *py_mlp_grad_params(PyObject *self, PyObject *args) {
    PyObject *capsule, *x_obj, *result = NULL;
    PyArrayObject *x = NULL, *grad = NULL;
    ebm_energy *e;
    npy_intp dim, n;
    int64_t count = 0;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OO", &capsule, &x_obj)) return NULL;
    if ((e = energy_from(capsule)) == NULL || energy_dim(e, &dim) < 0) return NULL;
    if ((status = ebm_mlp_num_parameters(e, &count)) != EBM_OK) return raise_status(status);
    if ((x = as_float32(x_obj, 2, dim, "x")) == NULL) goto fail;
    n = (npy_intp)count;
    if ((grad = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_FLOAT32)) == NULL) goto fail;
    Py_BEGIN_ALLOW_THREADS
    status = ebm_mlp_grad_params(e, (const float *)PyArray_DATA(x), PyArray_DIM(x, 0),
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

/* ---- sampling --------------------------------------------------------------------------------- */

/* langevin(handle, x, *config): runs in place on x, which must be a writeable float32
   C-contiguous (n, dim) array (the Python layer passes a fresh copy). */
static PyObject *py_langevin(PyObject *self, PyObject *args) {
    PyObject *capsule;
    PyArrayObject *x;
    ebm_energy *e;
    ebm_langevin_config config;
    long long n_steps;
    unsigned long long seed;
    npy_intp dim;
    poll_state poll;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OO!LdddpddK", &capsule, &PyArray_Type, &x, &n_steps,
                          &config.step_size, &config.noise_scale, &config.grad_clip,
                          &config.has_clamp, &config.clamp_low, &config.clamp_high, &seed))
        return NULL;
    config.n_steps = n_steps;
    config.seed = seed;
    if ((e = energy_from(capsule)) == NULL || energy_dim(e, &dim) < 0) return NULL;
    if (PyArray_TYPE(x) != NPY_FLOAT32 || !PyArray_IS_C_CONTIGUOUS(x) || !PyArray_ISWRITEABLE(x) ||
        PyArray_NDIM(x) != 2 || PyArray_DIM(x, 1) != dim || PyArray_DIM(x, 0) < 1) {
        PyErr_SetString(PyExc_TypeError, "x: expected a writeable C-contiguous float32 (n, dim) array");
        return NULL;
    }
    poll_init(&poll);
    Py_BEGIN_ALLOW_THREADS
    status = ebm_langevin(e, (float *)PyArray_DATA(x), PyArray_DIM(x, 0), &config, poll_signals, &poll);
    Py_END_ALLOW_THREADS
    if (status != EBM_OK) return raise_status(status);
    Py_RETURN_NONE;
}

/* ---- training --------------------------------------------------------------------------------- */

static PyObject *py_trainer_create(PyObject *self, PyObject *args) {
    PyObject *capsule, *result;
    ebm_energy *e;
    ebm_trainer *out = NULL;
    ebm_trainer_config c;
    long long n_steps, buffer_size;
    unsigned long long seed;
    int optimizer;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OLdddpddKidddddLdddd", &capsule, &n_steps, &c.sampler.step_size,
                          &c.sampler.noise_scale, &c.sampler.grad_clip, &c.sampler.has_clamp,
                          &c.sampler.clamp_low, &c.sampler.clamp_high, &seed, &optimizer, &c.lr,
                          &c.beta1, &c.beta2, &c.eps, &c.weight_decay, &buffer_size, &c.reinit_prob,
                          &c.init_low, &c.init_high, &c.alpha))
        return NULL;
    c.sampler.n_steps = n_steps;
    c.sampler.seed = seed;
    c.optimizer = optimizer;
    c.buffer_size = buffer_size;
    if ((e = energy_from(capsule)) == NULL) return NULL;
    Py_BEGIN_ALLOW_THREADS
    status = ebm_trainer_create(e, &c, &out);
    Py_END_ALLOW_THREADS
    if (status != EBM_OK) return raise_status(status);
    result = PyCapsule_New(out, TRAINER_CAPSULE, trainer_capsule_destroy);
    if (result == NULL) ebm_trainer_destroy(out);
    return result;
}

static PyObject *py_trainer_step(PyObject *self, PyObject *args) {
    PyObject *capsule, *x_obj, *dim_obj, *result = NULL;
    PyArrayObject *x = NULL;
    ebm_trainer *t;
    ebm_train_stats stats;
    poll_state poll;
    Py_ssize_t dim;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OOO", &capsule, &x_obj, &dim_obj)) return NULL;
    if ((t = trainer_from(capsule)) == NULL) return NULL;
    if ((dim = PyLong_AsSsize_t(dim_obj)) < 0) return NULL;
    if ((x = as_float32(x_obj, 2, dim, "x")) == NULL) goto fail;
    poll_init(&poll);
    Py_BEGIN_ALLOW_THREADS
    status = ebm_trainer_step(t, (const float *)PyArray_DATA(x), PyArray_DIM(x, 0), &stats,
                              poll_signals, &poll);
    Py_END_ALLOW_THREADS
    if (status != EBM_OK) {
        raise_status(status);
        goto fail;
    }
    result = Py_BuildValue("(dddd)", stats.loss, stats.e_data, stats.e_model, stats.grad_norm);
fail:
    Py_XDECREF(x);
    return result;
}

static PyObject *py_trainer_get_buffer(PyObject *self, PyObject *args) {
    PyObject *capsule, *dim_obj;
    PyArrayObject *out;
    ebm_trainer *t;
    int64_t size = 0;
    npy_intp dims[2];
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OO", &capsule, &dim_obj)) return NULL;
    if ((t = trainer_from(capsule)) == NULL) return NULL;
    if ((dims[1] = PyLong_AsSsize_t(dim_obj)) < 0) return NULL;
    if ((status = ebm_trainer_buffer_size(t, &size)) != EBM_OK) return raise_status(status);
    dims[0] = (npy_intp)size;
    if ((out = (PyArrayObject *)PyArray_SimpleNew(2, dims, NPY_FLOAT32)) == NULL) return NULL;
    Py_BEGIN_ALLOW_THREADS
    status = ebm_trainer_get_buffer(t, (float *)PyArray_DATA(out), (int64_t)(dims[0] * dims[1]));
    Py_END_ALLOW_THREADS
    if (status != EBM_OK) {
        Py_DECREF(out);
        return raise_status(status);
    }
    return (PyObject *)out;
}

static PyObject *py_trainer_step_count(PyObject *self, PyObject *args) {
    PyObject *capsule;
    ebm_trainer *t;
    int64_t count = 0;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "O", &capsule)) return NULL;
    if ((t = trainer_from(capsule)) == NULL) return NULL;
    if ((status = ebm_trainer_step_count(t, &count)) != EBM_OK) return raise_status(status);
    return PyLong_FromLongLong(count);
}

static PyObject *py_version(PyObject *self, PyObject *args) { return PyUnicode_FromString(ebm_version()); }

/* ---- module ----------------------------------------------------------------------------------- */

static PyMethodDef methods[] = {
    {"mlp_create", py_mlp_create, METH_VARARGS, NULL},
    {"gaussian_create", py_gaussian_create, METH_VARARGS, NULL},
    {"energy_dim", py_energy_dim, METH_VARARGS, NULL},
    {"energy_eval", py_energy_eval, METH_VARARGS, NULL},
    {"energy_grad_x", py_energy_grad_x, METH_VARARGS, NULL},
    {"mlp_get_parameters", py_mlp_get_parameters, METH_VARARGS, NULL},
    {"mlp_set_parameters", py_mlp_set_parameters, METH_VARARGS, NULL},
    {"mlp_grad_params", py_mlp_grad_params, METH_VARARGS, NULL},
    {"langevin", py_langevin, METH_VARARGS, NULL},
    {"trainer_create", py_trainer_create, METH_VARARGS, NULL},
    {"trainer_step", py_trainer_step, METH_VARARGS, NULL},
    {"trainer_get_buffer", py_trainer_get_buffer, METH_VARARGS, NULL},
    {"trainer_step_count", py_trainer_step_count, METH_VARARGS, NULL},
    {"version", py_version, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_native",
    "Private: the NumPy shim over libebm_swift's C ABI. Use the ebm_swift package instead.", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void) {
    PyObject *m;
    import_array();
    m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    DivergenceError = PyErr_NewExceptionWithDoc(
        "ebm_swift.DivergenceError",
        "A NaN or infinity appeared during sampling or training.", PyExc_FloatingPointError, NULL);
    if (DivergenceError == NULL || PyModule_AddObjectRef(m, "DivergenceError", DivergenceError) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
