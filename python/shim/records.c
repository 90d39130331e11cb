#include "shim.h"

/* ---- settings records ------------------------------------------------------------------------- */

/* A record crosses from Python as (kind, settings): a str and a dict whose values are None, an int
   (a seed up to 2**64 - 1 keeps its bits), a float, a str or a 1-d array of numbers. The shim only
   converts; the core reads the settings strictly by name. The record holds references to every
   name and value until record_clear, so the GIL can be released while the core reads it. */

void record_clear(record_storage *r) {
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
int record_from(PyObject *obj, const char *role, record_storage *r) {
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

