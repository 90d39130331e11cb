#include "shim.h"

/* ---- energies --------------------------------------------------------------------------------- */

PyObject *py_mlp_create(PyObject *self, PyObject *args) {
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

/* network_create(input_shape, [(kind, {field: value}) per layer, pre-order], n_classes, seed) */
PyObject *py_network_create(PyObject *self, PyObject *args) {
    unsigned long long seed;
    PyObject *shape_obj, *layers_obj, *capsule = NULL;
    PyArrayObject *shape = NULL;
    record_storage *storage = NULL;
    ebm_record *records = NULL;
    ebm_energy *out = NULL;
    ebm_status status;
    Py_ssize_t n, built = 0;
    long long n_classes;
    if (!PyArg_ParseTuple(args, "OO!LK", &shape_obj, &PyList_Type, &layers_obj, &n_classes, &seed)) return NULL;
    n = PyList_GET_SIZE(layers_obj);
    if (n > 100000) {
        PyErr_Format(PyExc_ValueError, "layers: at most 100000 layers, got %zd", n);
        return NULL;
    }
    if ((shape = (PyArrayObject *)PyArray_FROM_OTF(shape_obj, NPY_INT64, NPY_ARRAY_IN_ARRAY)) == NULL) goto fail;
    storage = PyMem_Calloc(n > 0 ? (size_t)n : 1, sizeof *storage);
    records = PyMem_Calloc(n > 0 ? (size_t)n : 1, sizeof *records);
    if (storage == NULL || records == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    for (; built < n; built++) {
        if (record_from(PyList_GET_ITEM(layers_obj, built), "layer", &storage[built]) < 0) {
            built++; /* record_from leaves what it took in storage: cleared below */
            goto fail;
        }
        records[built] = storage[built].record;
    }
    BEGIN_POLLED_CALL(NULL) /* a spectral norm's first power iterations poll Ctrl-C */
    status = ebm_network_create((const int64_t *)PyArray_DATA(shape), PyArray_SIZE(shape), records, n, n_classes, seed,
                                &out);
    END_POLLED_CALL
    capsule = wrap_energy(status, out);
fail:
    for (Py_ssize_t i = 0; i < built; i++) record_clear(&storage[i]);
    Py_XDECREF(shape);
    PyMem_Free(storage);
    PyMem_Free(records);
    return capsule;
}

/* energy_tensors(handle, which) -> [(name, shape)]: which 0 the parameters, 1 the buffers */
PyObject *py_energy_tensors(PyObject *self, PyObject *args) {
    PyObject *capsule, *list;
    ebm_energy *e;
    ebm_tensor_entry *entries;
    int which;
    int64_t count = 0;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "Oi", &capsule, &which) || (e = energy_from(capsule)) == NULL) return NULL;
    if ((status = ebm_energy_tensors(e, which, NULL, 0, &count)) != EBM_OK) return raise_status(status);
    if ((entries = PyMem_Calloc(count > 0 ? (size_t)count : 1, sizeof *entries)) == NULL) return PyErr_NoMemory();
    if ((status = ebm_energy_tensors(e, which, entries, count, &count)) != EBM_OK) {
        PyMem_Free(entries);
        return raise_status(status);
    }
    if ((list = PyList_New(count)) != NULL)
        for (int64_t k = 0; k < count; k++) {
            PyObject *shape = PyTuple_New(entries[k].ndim), *item;
            for (int32_t j = 0; shape != NULL && j < entries[k].ndim; j++)
                PyTuple_SET_ITEM(shape, j, PyLong_FromLongLong((long long)entries[k].shape[j]));
            if (shape == NULL || (item = Py_BuildValue("(sN)", entries[k].name, shape)) == NULL) {
                Py_CLEAR(list);
                break;
            }
            PyList_SET_ITEM(list, k, item);
        }
    PyMem_Free(entries);
    return list;
}

PyObject *py_energy_num_classes(PyObject *self, PyObject *args) {
    PyObject *capsule;
    ebm_energy *e;
    int64_t k = 0;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "O", &capsule) || (e = energy_from(capsule)) == NULL) return NULL;
    if ((status = ebm_energy_num_classes(e, &k)) != EBM_OK) return raise_status(status);
    return PyLong_FromLongLong(k);
}

/* energy_logits(energy, x) -> float32 (n, classes) */
PyObject *py_energy_logits(PyObject *self, PyObject *args) {
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
    BEGIN_POLLED_CALL(capsule)
    status = ebm_energy_logits(e, (const float *)PyArray_DATA(x), shape[0], (float *)PyArray_DATA(logits),
                               (int64_t)shape[0] * k);
    END_POLLED_CALL
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
PyObject *py_energy_class_create(PyObject *self, PyObject *args) {
    PyObject *capsule;
    ebm_energy *e, *out = NULL;
    long long label;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OL", &capsule, &label) || (e = energy_from(capsule)) == NULL) return NULL;
    status = ebm_energy_class_create(e, label, &out);
    return wrap_energy(status, out);
}

PyObject *py_gaussian_create(PyObject *self, PyObject *args) {
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

PyObject *py_gaussian_mixture_create(PyObject *self, PyObject *args) {
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

PyObject *py_double_well_create(PyObject *self, PyObject *args) {
    long long dim;
    double barrier;
    ebm_energy *out = NULL;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "Ld", &dim, &barrier)) return NULL;
    status = ebm_double_well_create(dim, barrier, &out);
    return wrap_energy(status, out);
}

PyObject *py_banana_create(PyObject *self, PyObject *args) {
    long long dim;
    double curvature, scale;
    ebm_energy *out = NULL;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "Ldd", &dim, &curvature, &scale)) return NULL;
    status = ebm_banana_create(dim, curvature, scale, &out);
    return wrap_energy(status, out);
}

/* callable_create(dim, fn): fn(x, need_energy, need_grad) -> (energies | None, grad | None). */
PyObject *py_callable_create(PyObject *self, PyObject *args) {
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

PyObject *py_energy_dim(PyObject *self, PyObject *args) {
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
    BEGIN_POLLED_CALL(capsule)
    if (with_gradient)
        status = ebm_energy_grad_x(e, (const float *)PyArray_DATA(x), n,
                                   (float *)PyArray_DATA(energies), (float *)PyArray_DATA(grad));
    else
        status = ebm_energy_eval(e, (const float *)PyArray_DATA(x), n,
                                 (float *)PyArray_DATA(energies));
    END_POLLED_CALL
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

PyObject *py_energy_eval(PyObject *self, PyObject *args) { return evaluate(args, 0); }
PyObject *py_energy_grad_x(PyObject *self, PyObject *args) { return evaluate(args, 1); }

