"""Sphinx configuration: numpydoc API pages, a sphinx-gallery of examples/, MyST pages."""

import os
import sys
import warnings
from pathlib import Path

import sklearn_aae

os.environ.setdefault("MPLBACKEND", "Agg")
# plot_dask's cluster logs its shutdown on a busy machine ("Worker process still alive
# after 4.0 seconds, killing") into the page; only its errors belong there.
os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
# Examples end with plt.show(), which older matplotlib answers with this warning under Agg.
warnings.filterwarnings("ignore", category=UserWarning, message=".*Matplotlib is currently using agg.*")

project = "sklearn_aae"
author = "the sklearn_aae developers"
copyright = "2026, the sklearn_aae developers"
release = version = sklearn_aae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip",
                    "auto_examples/*.json", "auto_examples/*.md5", "sg_execution_times.rst"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.xref_missing"]

autosummary_generate = True
# Inherited scikit-learn helpers whose docstrings point into scikit-learn's own site are
# left to scikit-learn's documentation.
autodoc_default_options = {
    "members": True,
    "inherited-members": True,
    "exclude-members": "get_metadata_routing, set_output, set_fit_request, set_partial_fit_request, "
                       "set_score_request, set_transform_request, set_inverse_transform_request, "
                       "set_predict_request, set_predict_proba_request",
}
numpydoc_show_class_members = True
numpydoc_class_members_toctree = False
numpydoc_show_inherited_class_members = True
numpydoc_xref_param_type = False
# Checks for wrong docstrings: undocumented or unknown parameters, a missing summary,
# Returns or Yields section, unknown or misordered sections. Style checks (See Also,
# extended summary, types on grouped parameters) are left off.
numpydoc_validation_checks = {"GL06", "GL07", "PR01", "PR02", "PR10", "SS01", "RT01", "YD01"}


sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "image_scrapers": ("matplotlib",),
}

html_theme = "pydata_sphinx_theme"
html_title = "sklearn_aae"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
templates_path = []
sys.path.insert(0, str(Path(__file__).resolve().parent))
