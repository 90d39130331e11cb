#include "shim.h"

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

PyObject *py_energy_get_parameters(PyObject *self, PyObject *args) {
    return get_vector(args, ebm_energy_num_parameters, ebm_energy_get_parameters);
}

PyObject *py_energy_set_parameters(PyObject *self, PyObject *args) {
    return set_vector(args, ebm_energy_set_parameters, "params");
}

PyObject *py_energy_get_buffers(PyObject *self, PyObject *args) {
    return get_vector(args, ebm_energy_num_buffers, ebm_energy_get_buffers);
}

PyObject *py_energy_set_buffers(PyObject *self, PyObject *args) {
    return set_vector(args, ebm_energy_set_buffers, "buffers");
}

PyObject *py_energy_grad_params(PyObject *self, PyObject *args) {
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
    BEGIN_POLLED_CALL(capsule)
    status = ebm_energy_grad_params(e, (const float *)PyArray_DATA(x), PyArray_DIM(x, 0),
                                 (float *)PyArray_DATA(grad), count);
    END_POLLED_CALL
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
PyObject *py_energy_jet(PyObject *self, PyObject *args) {
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
    BEGIN_POLLED_CALL(capsule)
    status = ebm_energy_jet(e, (const float *)PyArray_DATA(x), (const float *)PyArray_DATA(v), PyArray_DIM(x, 0),
                            order, weights, (float *)PyArray_DATA(outputs),
                            grad == NULL ? NULL : (float *)PyArray_DATA(grad), count);
    END_POLLED_CALL
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

