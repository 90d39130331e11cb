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

/* trainer_step(handle, x, dim, lr, history) -> (loss, e_data, e_model, grad_norm, lr, step_time).
   `history` is the trainer's six lists in that order: the step's row is appended here, in C, where
   no signal handler can run between the step and its record (a KeyboardInterrupt raised after
   the native step returned would otherwise leave a completed step out of the history). */
PyObject *py_trainer_step(PyObject *self, PyObject *args) {
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

