"""Sphinx configuration of the ebm_swift documentation (`make docs`; warnings are errors)."""

import re

project = "ebm_swift"
author = "the ebm_swift developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True  # Attributes sections as fields, not objects that autodoc documents again
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
myst_heading_anchors = 3
html_theme = "alabaster"
# A name such as `input_shape` that two classes define is an ambiguous reference, not an error.
suppress_warnings = ["myst.xref_missing", "ref.python"]


def _escape_stars(app, what, name, obj, options, lines):
    """Shapes such as ``(n, *input_shape)`` in numpydoc type lines: a literal star, not emphasis."""
    for i, line in enumerate(lines):
        if "``" not in line:
            lines[i] = re.sub(r"(?<=[(, ])\*(?=[A-Za-z_])", r"\\*", line)


def setup(app):
    app.connect("autodoc-process-docstring", _escape_stars)
