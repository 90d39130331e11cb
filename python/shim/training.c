#include "shim.h"

/* ---- training --------------------------------------------------------------------------------- */

/* trainer_create(handle, trainer, optimizer, objective, sampler) -> trainer; each a (kind, dict)
   record, sampler None for objectives without negatives. */
PyObject *py_trainer_create(PyObject *self, PyObject *args) {
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

/* ---- negatives moved elsewhere (ebm_swift.distributed.fit) ------------------------------------ */

typedef struct {
    PyObject *fn; /* fn(x, segments, block_rows, step, parameters, buffers) -> moved x */
    PyObject *error_type, *error_value, *error_traceback;
} negatives_ctx;

static PyObject *float_copy(const float *values, npy_intp rows, npy_intp cols, int ndim) {
    npy_intp dims[2] = {rows, cols};
    PyObject *a = PyArray_SimpleNew(ndim, dims, NPY_FLOAT32);
    if (a != NULL && rows * cols > 0) memcpy(PyArray_DATA((PyArrayObject *)a), values, (size_t)(rows * cols) * sizeof(float));
    return a;
}

/* ebm_negatives_fn: called by the step (GIL released) once; copies out, calls fn, copies back. */
static int32_t call_python_negatives(void *ctx_, float *x, int64_t rows, int64_t dim, const ebm_negative_segment *segments,
                                     int64_t n_segments, int64_t block_rows, int64_t step, const float *parameters,
                                     int64_t n_parameters, const float *buffers, int64_t n_buffers) {
    negatives_ctx *ctx = (negatives_ctx *)ctx_;
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *xa = NULL, *sa = NULL, *pa = NULL, *ba = NULL, *result = NULL;
    npy_intp sdims[2] = {(npy_intp)n_segments, 3};
    int32_t rc = -1;
    if ((xa = float_copy(x, rows, dim, 2)) == NULL || (pa = float_copy(parameters, n_parameters, 1, 1)) == NULL ||
        (ba = float_copy(buffers, n_buffers, 1, 1)) == NULL || (sa = PyArray_SimpleNew(2, sdims, NPY_INT64)) == NULL)
        goto fail;
    memcpy(PyArray_DATA((PyArrayObject *)sa), segments, (size_t)n_segments * sizeof(ebm_negative_segment));
    result = PyObject_CallFunction(ctx->fn, "OOLLOO", xa, sa, (long long)block_rows, (long long)step, pa, ba);
    if (result == NULL || copy_floats(result, x, (npy_intp)(rows * dim), "the negatives' sampler") < 0) goto fail;
    rc = 0;
fail:
    keep_callback_error(rc != 0, &ctx->error_type, &ctx->error_value, &ctx->error_traceback);
    Py_XDECREF(xa);
    Py_XDECREF(sa);
    Py_XDECREF(pa);
    Py_XDECREF(ba);
    Py_XDECREF(result);
    PyGILState_Release(gil);
    return rc;
}

/* trainer_sample_negatives(handle, x, dim, chain_offset, class_index, step) -> the moved chains
   (a new array; x is copied, never modified). */
PyObject *py_trainer_sample_negatives(PyObject *self, PyObject *args) {
    PyObject *capsule, *x_obj, *dim_obj, *result = NULL;
    PyArrayObject *x = NULL;
    long long offset, class_index, step;
    Py_ssize_t dim;
    ebm_trainer *t;
    poll_state poll;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OOOLLL", &capsule, &x_obj, &dim_obj, &offset, &class_index, &step)) return NULL;
    if ((t = trainer_from(capsule)) == NULL || (dim = PyLong_AsSsize_t(dim_obj)) < 0) return NULL;
    if ((x = as_float32(x_obj, 2, dim, "x")) == NULL) return NULL;
    if ((result = float_copy((const float *)PyArray_DATA(x), PyArray_DIM(x, 0), dim, 2)) == NULL) goto done;
    poll_init(&poll, Py_None, NULL);
    Py_BEGIN_ALLOW_THREADS
    status = ebm_trainer_sample_negatives(t, (float *)PyArray_DATA((PyArrayObject *)result), PyArray_DIM(x, 0), offset,
                                          class_index, step, poll_signals, &poll);
    Py_END_ALLOW_THREADS
    if (status != EBM_OK) {
        Py_CLEAR(result);
        raise_status(status);
    }
done:
    Py_DECREF(x);
    return result;
}

/* trainer_step(handle, x, dim, labels, lr, history, negatives) -> (loss, e_data, e_model, grad_norm, lr, step_time).
   `negatives` is None or fn(x, segments, block_rows, step, parameters, buffers) -> the moved x,
   which then moves the step's negatives (its exception, if it raises, fails the step and is re-raised).
   `history` is the trainer's six lists in that order: the step's row is appended here, in C, where
   no signal handler can run between the step and its record (a KeyboardInterrupt raised after
   the native step returned would otherwise leave a completed step out of the history). */
PyObject *py_trainer_step(PyObject *self, PyObject *args) {
    PyObject *capsule, *x_obj, *dim_obj, *labels_obj, *history, *negatives_fn = Py_None, *result = NULL;
    negatives_ctx negatives = {NULL, NULL, NULL, NULL};
    PyArrayObject *x = NULL, *labels = NULL;
    ebm_trainer *t;
    ebm_train_stats stats;
    poll_state poll;
    Py_ssize_t dim;
    double lr, seconds;
    struct timespec t0, t1;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OOOOdO!|O", &capsule, &x_obj, &dim_obj, &labels_obj, &lr, &PyTuple_Type, &history,
                          &negatives_fn))
        return NULL;
    if (negatives_fn != Py_None && !PyCallable_Check(negatives_fn)) {
        PyErr_SetString(PyExc_TypeError, "negatives: expected None or a callable");
        return NULL;
    }
    negatives.fn = negatives_fn;
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
                              labels ? (const int32_t *)PyArray_DATA(labels) : NULL, lr, &stats, poll_signals, &poll,
                              negatives_fn != Py_None ? call_python_negatives : NULL, &negatives);
    Py_END_ALLOW_THREADS
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (negatives.error_type != NULL) { /* the sampler's own exception, whatever the status */
        PyErr_Restore(negatives.error_type, negatives.error_value, negatives.error_traceback);
        goto fail;
    }
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
PyObject *py_trainer_state(PyObject *self, PyObject *args) {
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
PyObject *py_trainer_get_state(PyObject *self, PyObject *args) {
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
PyObject *py_trainer_set_state(PyObject *self, PyObject *args) {
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

